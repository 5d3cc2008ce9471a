import VAImageIO
import VAInspection
import VARendering

/// The figures of most `--map`s, each named in its `MapRegistry` entry.
extension Scene {
  /// Input, attention at the query (the class token's when the model has one and no
  /// --query was given), SAGAN attention over CNN features and the CNN's receptive field at
  /// the same point; with a trained CNN (`settings.cnnWeights`) also its Grad-CAM
  /// (`cnn_gradcam` in the dump).
  func defaultFigure() throws(VisionAttentionError) -> RenderedFigure {
    let (rf, _, _) = receptiveFieldPanel()
    let attentionPanel: Panel
    if settings.query == nil, let values = attention.classTokenMap(layer: layer, selection) {
      attentionPanel = heatPanel(values, caption: ["self-attention: class token at layer \(layer), \(describe(selection))", "global and content-dependent"], marked: false)
    } else if settings.query == nil, let values = attention.poolMap(selection) {
      // No class token, but an attention-pooling head: its query is the model's readout.
      attentionPanel = heatPanel(values, caption: ["self-attention: the attention-pooling head's query, \(describe(selection))", "global and content-dependent"], marked: false)
    } else {
      let values = attention.queryMap(column: patch.column, row: patch.row, layer: layer, selection)
      attentionPanel = heatPanel(values, caption: ["self-attention: " + queryTitle(layer: layer, selection), "global and content-dependent"], marked: true)
    }
    let title = "vit-attend | \(modelCaption)"
    var panels = [inputPanel(), attentionPanel, saganPanel(), rf]
    let cnn = try cnnGradCAMPanel()
    if let cnn { panels.append(cnn.panel) }
    return RenderedFigure(image: Figure.sideBySide(panels, title: title), tensors: cnn.map { [$0.tensor] } ?? [])
  }

  /// The query patch's attention at the layer.
  func queryFigure() -> RenderedFigure {
    mapFigure(queryOverlay().values, title: queryTitle(layer: layer, selection), marked: true)
  }

  func mapFigure(_ values: [Float], title: String, marked: Bool) -> RenderedFigure {
    let panel = heatPanel(values, caption: [title], marked: marked)
    // A map that ignores the query (the class token's, its rollout) shows no query marker.
    return RenderedFigure(image: Figure.sideBySide([inputPanel(marked: marked), panel], title: "vit-attend | \(modelCaption)"))
  }

  func classTokenFigure() throws(VisionAttentionError) -> RenderedFigure {
    if !attention.hasClassToken, let values = attention.poolMap(selection) {
      return mapFigure(values, title: "no class token: attention-pooling head's query over the patches, \(describe(selection))", marked: false)
    }
    guard let values = attention.classTokenMap(layer: layer, selection) else { throw .needsClassToken(map: "cls") }
    return mapFigure(values, title: "class-token attention at layer \(layer), \(describe(selection))", marked: false)
  }

  /// Rollout through every layer; the class token's row when there is one, else the query's.
  /// A full record dumps the whole `rollout` `[T, T]`; a rows record (above
  /// `--full-attention-limit`) carries only that row down the layers and dumps `rollout_row`.
  func rolloutFigure() -> RenderedFigure {
    let fusion: HeadFusion = settings.fuse ?? .mean
    let whose = attention.hasClassToken ? "class token" : "patch (\(patch.column),\(patch.row))"
    let title = "attention rollout of the \(whose) over \(plural(attention.layers.count, "layer")) (\(fusion.rawValue) of heads, discard \(settings.discardRatio))"
    let (values, tensors) = rolloutOverlay()
    var figure = mapFigure(values, title: title, marked: !attention.hasClassToken)
    figure.tensors += tensors
    return figure
  }

  /// Every layer x head, for the query (or the class token when there is one and no
  /// --query was given), and for a model with an attention-pooling head a last row with
  /// that head's query over the patches, head by head: the readout such a model classifies by.
  func headsFigure() -> RenderedFigure {
    let useClass = attention.hasClassToken && settings.query == nil
    // Thumbnails up to 180 pixels; a small input is enlarged by a whole factor to 128 or more.
    let cellWidth = image.width >= 128 ? min(image.width, 180) : image.width * ((127 + image.width) / image.width)
    var cells: [[Image]] = []
    for l in 0..<attention.layers.count {
      cells.append(
        (0..<attention.heads).map { h in
          let values = useClass ? attention.classTokenMap(layer: l, .head(h))! : attention.queryMap(column: patch.column, row: patch.row, layer: l, .head(h))
          return heatImage(values, marked: !useClass, width: cellWidth).image
        })
    }
    var rows = (0..<attention.layers.count).map { "layer \($0)" }
    let poolRow = (0..<attention.poolHeads).compactMap { attention.poolMap(.head($0)) }
    if !poolRow.isEmpty {
      cells.append(poolRow.map { heatImage($0, marked: false, width: cellWidth).image })
      rows.append("pool")
    }
    let columns = (0..<attention.heads).map { ["head \($0)", model.headName($0)].compactMap { $0 }.joined(separator: " ") }
    let whose = useClass ? "class token" : "patch (\(patch.column),\(patch.row))"
    let pooled = poolRow.isEmpty ? "" : " (row pool: the attention-pooling head's query)"
    let image = Figure.grid(
      cells, rowLabels: rows, columnLabels: columns,
      title: "every head's attention of the \(whose)\(pooled), each map scaled to its own range | \(modelCaption)")
    return RenderedFigure(image: image)
  }

  /// DINO-style keep-mass masks, one panel per head of the layer.
  func maskFigure() throws(VisionAttentionError) -> RenderedFigure {
    var panels: [Panel] = []
    for h in 0..<attention.heads {
      let values = attention.classTokenMap(layer: layer, .head(h)) ?? attention.queryMap(column: patch.column, row: patch.row, layer: layer, .head(h))
      let mask = AttentionRecord.keepMassMask(values, keep: settings.keep)
      var canvas = Canvas(displayed(image))
      // Dim what the mask leaves out, then outline what it keeps.
      let cellWidth = canvas.width / attention.gridWidth, cellHeight = canvas.height / attention.gridHeight
      for (index, kept) in mask.enumerated() where !kept {
        canvas.fillRect(x: index % attention.gridWidth * cellWidth, y: index / attention.gridWidth * cellHeight, width: cellWidth, height: cellHeight, .black, opacity: 0.6)
      }
      canvas.contour(mask: mask, gridWidth: attention.gridWidth, gridHeight: attention.gridHeight, x: 0, y: 0, width: canvas.width, height: canvas.height, RGB.markers[h % RGB.markers.count])
      if !attention.hasClassToken {
        canvas.marker(queryMarker(scale: Double(displayScale), shorterSide: min(canvas.width, canvas.height)), RGB.markers[0])
      }
      let count = mask.filter { $0 }.count
      panels.append(Panel(image: canvas.image, caption: ["\(describe(.head(h))): \(Int(settings.keep * 100))% of mass in \(count) of \(mask.count) patches"]))
    }
    let whose = attention.hasClassToken ? "class token" : "patch (\(patch.column),\(patch.row))"
    return RenderedFigure(image: Figure.sideBySide(panels, title: "keep-mass masks of the \(whose) at layer \(layer) | \(modelCaption)"))
  }
}
