import VAImageIO
import VAInspection
import VARendering

/// `--style bare`: the overlay alone, for maps that are one overlay (`MapSpec.overlay`).
extension Scene {
  /// The one patch-grid map the styled figure overlays, with the tensors a dump adds, for
  /// the maps that have one (`MapSpec.hasBareOverlay`); nil for the others.
  func singleMap() throws(VisionAttentionError) -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])])? {
    guard let overlay = MapRegistry.spec(settings.map).overlay else { return nil }
    return try overlay(self)
  }

  /// The default figure's attention panel: the model's readout as the styled figure shows
  /// it (the class token, else an attention-pooling head), else the query's map.
  func readoutOverlay() -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])]) {
    if settings.query == nil, let values = attention.classTokenMap(layer: layer, selection) ?? attention.poolMap(selection) { return (values, []) }
    return queryOverlay()
  }

  func queryOverlay() -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])]) {
    (attention.queryMap(column: patch.column, row: patch.row, layer: layer, selection), [])
  }

  func classTokenOverlay() throws(VisionAttentionError) -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])]) {
    // Without a class token, an attention-pooling head's query stands in (as the styled
    // figure does, saying so in its caption).
    guard let values = attention.classTokenMap(layer: layer, selection) ?? attention.poolMap(selection) else { throw .needsClassToken(map: "cls") }
    return (values, [])
  }

  /// As the styled figure: the whole [T, T] rollout from a full record, the one row carried
  /// down the layers from a rows record (above the full-attention limit).
  func rolloutOverlay() -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])]) {
    let fusion = settings.fuse ?? .mean
    let row = attention.hasClassToken ? 0 : attention.token(column: patch.column, row: patch.row)
    guard attention.isFull else {
      let values = attention.rolloutRow(row, fusion, discardRatio: settings.discardRatio)
      return (attention.patchMap(ofRow: values), [("rollout_row", [attention.tokens], values)])
    }
    let rollout = attention.rollout(fusion, discardRatio: settings.discardRatio)
    return (attention.patchMap(of: rollout, query: row), [("rollout", [attention.tokens, attention.tokens], rollout)])
  }

  /// The map colour-mapped over the model's input at its size: no title, caption, colour bar
  /// or marker, as DINO's and vit-explain's scripts write them.
  func bareFigure() throws(VisionAttentionError) -> RenderedFigure {
    if let bare = MapRegistry.spec(settings.map).bare { return try bare(self) }
    guard let (values, tensors) = try singleMap() else {
      throw .bareNeedsOneMap(map: settings.map?.rawValue ?? "default")
    }
    let overlay = ImageAttention.overlay(
      values, on: image, gridWidth: attention.gridWidth, gridHeight: attention.gridHeight,
      colormap: settings.colormap, alpha: settings.alpha, upsample: settings.upsample)
    return RenderedFigure(image: overlay, tensors: tensors)
  }
}
