import VAImageIO
import VAInspection
import VARendering

/// The Swin figures of `--map query`, `heads` and the default figure.
extension SwinScene {
  /// Draws what `settings.map` names: the default figure when nil. `SwinPipeline` refuses
  /// the maps Swin has no figure for before any image runs.
  public func figure() throws(VisionAttentionError) -> RenderedFigure {
    switch settings.map {
    case nil: return defaultFigure()
    case .query: return queryFigure()
    case .heads: return headsFigure()
    case .distance: return distanceFigure()
    case .rollout: return rolloutFigure()
    case .gradcam: return try gradCAMFigure()
    case .some(let map): throw SwinPipeline.refusal(map)
    }
  }

  /// The query's window attention at every block (or `--layer`'s), each at its block's
  /// resolution: how the window moves with the shift and grows with each merging. Up to six
  /// blocks side by side with captions; more as a grid, one row per stage.
  func queryFigure() -> RenderedFigure {
    let tensors = shownBlocks.map { l in ("query.\(l)", [blocks[l].height, blocks[l].width], queryMap(block: l, selection).values) }
    let title = "windowed attention of the query, block by block | \(modelCaption)"
    guard shownBlocks.count > 6 else {
      return RenderedFigure(image: Figure.sideBySide([inputPanel()] + shownBlocks.map { queryPanel(block: $0, selection) }, title: title), tensors: tensors)
    }
    return RenderedFigure(image: Self.stacked([Figure.sideBySide([inputPanel()], title: title), blockGrid()]), tensors: tensors)
  }

  /// The query's window at every block, a row per stage, each map scaled to its own maximum.
  func blockGrid() -> Image {
    let width = image.width >= 128 ? min(image.width, 200) : image.width * ((127 + image.width) / image.width)
    var rows: [[Image]] = [], labels: [String] = []
    for stage in 0..<swin.model.configuration.stageCount {
      let members = blocks.indices.filter { blocks[$0].stage == stage }
      guard let first = members.first else { continue }
      rows.append(
        members.map { l in
          let (values, window) = queryMap(block: l, selection)
          return cellImage(values, gridWidth: blocks[l].width, gridHeight: blocks[l].height, cell: cellPixels(l), shown: window, marked: true, width: width).image
        })
      let g = blocks[first]
      labels.append("stage \(stage): \(g.width)x\(g.height) cells of \(cellPixels(first)) px")
    }
    let columns = (0..<(rows.map(\.count).max() ?? 0)).map { $0 % 2 == 1 ? "block +\($0) (shifted)" : "block +\($0)" }
    return Figure.grid(
      rows, rowLabels: labels, columnLabels: columns,
      title: "the query's window at each block (\(describe(selection))), each map scaled to its own maximum; outside the window nothing")
  }

  /// `images` one above the other on white, left-aligned.
  static func stacked(_ images: [Image]) -> Image {
    var canvas = Canvas(width: images.map(\.width).max() ?? 1, height: images.reduce(0) { $0 + $1.height })
    var y = 0
    for picture in images {
      canvas.draw(picture, x: 0, y: y)
      y += picture.height
    }
    return canvas.image
  }

  /// The default figure: the input, the query's effective field (rollout through windows,
  /// shifts and merging) and the CNN's receptive field at the same point, above the query's
  /// window at every block (`--layer`: that block's alone).
  func defaultFigure() -> RenderedFigure {
    var figure = queryFigure()
    let (field, fieldTensor) = effectiveFieldPanel()
    let top = Figure.sideBySide(
      [inputPanel(), field, receptiveFieldPanel()],
      title: "Swin: what the query's last-stage token can see, beside a CNN's receptive field | \(modelCaption)")
    let blocksShown =
      shownBlocks.count == 1
      ? Figure.sideBySide([queryPanel(block: shownBlocks[0], selection)]) : blockGrid()
    figure.image = Self.stacked([top, blocksShown])
    figure.tensors.append(fieldTensor)
    return figure
  }

  /// Every block × head for the query, each map at its block's resolution and scaled to its
  /// own range; a stage with fewer heads leaves its row short. Every block, whatever `--layer`.
  func headsFigure() -> RenderedFigure {
    let cellWidth = image.width >= 128 ? min(image.width, 180) : image.width * ((127 + image.width) / image.width)
    var cells: [[Image]] = []
    for l in blocks.indices {
      let g = blocks[l]
      cells.append(
        (0..<heads(l)).map { h in
          let (values, window) = queryMap(block: l, .head(h))
          return cellImage(values, gridWidth: g.width, gridHeight: g.height, cell: cellPixels(l), shown: window, marked: true, width: cellWidth).image
        })
    }
    let most = blocks.indices.map(heads).max() ?? 1
    let image = Figure.grid(
      cells, rowLabels: blocks.indices.map { "block \($0) (stage \(blocks[$0].stage))" }, columnLabels: (0..<most).map { "head \($0)" },
      title: "every head's window attention of the query, each map scaled to its own range | \(modelCaption)")
    return RenderedFigure(image: image)
  }
}

extension SwinScene {
  /// `--map gradcam`: Grad-CAM over the last stage's cells (`SwinPipeline.gradCAM`), for
  /// `--class` or the top-1; dumps `gradcam` `[h, w]`.
  func gradCAMFigure() throws(VisionAttentionError) -> RenderedFigure {
    guard let cam = gradCAM else { throw .noClassifier }
    let l = blocks.count - 1, g = blocks[l]
    let (picture, bar) = cellImage(cam, gridWidth: g.width, gridHeight: g.height, cell: cellPixels(l), marked: false)
    let k: String
    if case .classIndex(let index) = settings.target { k = "class \(index)" } else { k = "the top-1 class" }
    let panel = Panel(
      image: picture, caption: ["Grad-CAM of \(k) on the final norm's \(g.width)x\(g.height) map (\(cellPixels(l)) px cells), as pytorch-grad-cam"],
      colorBar: bar)
    return RenderedFigure(
      image: Figure.sideBySide([inputPanel(marked: false), panel], title: "Grad-CAM | \(modelCaption)"), tensors: [("gradcam", [g.height, g.width], cam)])
  }
}
