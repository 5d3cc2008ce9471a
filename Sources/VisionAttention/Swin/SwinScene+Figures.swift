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
  /// resolution: how the window moves with the shift and grows with each merging.
  func queryFigure() -> RenderedFigure {
    var panels = [inputPanel()]
    var tensors: [(name: String, shape: [Int], values: [Float])] = []
    for l in shownBlocks {
      panels.append(queryPanel(block: l, selection))
      tensors.append(("query.\(l)", [blocks[l].height, blocks[l].width], queryMap(block: l, selection).values))
    }
    return RenderedFigure(image: Figure.sideBySide(panels, title: "windowed attention of the query, block by block | \(modelCaption)"), tensors: tensors)
  }

  /// The default figure: the query's window at every block, then its effective field
  /// (rollout through windows, shifts and merging) beside the CNN's receptive field.
  func defaultFigure() -> RenderedFigure {
    var figure = queryFigure()
    let (field, fieldTensor) = effectiveFieldPanel()
    let rf = receptiveFieldPanel()
    figure.image = Figure.sideBySide(
      queryFigurePanels() + [field, rf], title: "Swin: windowed attention of the query, its effective field, and a CNN's receptive field | \(modelCaption)")
    figure.tensors.append(fieldTensor)
    return figure
  }

  private func queryFigurePanels() -> [Panel] { [inputPanel()] + shownBlocks.map { queryPanel(block: $0, selection) } }

  /// Every block × head for the query, each map at its block's resolution and scaled to its
  /// own range; a stage with fewer heads leaves its row short.
  func headsFigure() -> RenderedFigure {
    let cellWidth = image.width >= 128 ? min(image.width, 180) : image.width * ((127 + image.width) / image.width)
    var cells: [[Image]] = []
    for l in shownBlocks {
      let g = blocks[l]
      cells.append(
        (0..<heads(l)).map { h in
          let (values, window) = queryMap(block: l, .head(h))
          return cellImage(values, gridWidth: g.width, gridHeight: g.height, cell: cellPixels(l), shown: window, marked: true, width: cellWidth).image
        })
    }
    let most = shownBlocks.map(heads).max() ?? 1
    let image = Figure.grid(
      cells, rowLabels: shownBlocks.map { "block \($0) (stage \(blocks[$0].stage))" }, columnLabels: (0..<most).map { "head \($0)" },
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
