import VAImageIO
import VAInspection
import VARendering

/// `--style bare`: the overlay alone, for maps that are one overlay.
extension Scene {
  /// The one patch-grid map the styled figure overlays, with the tensors a dump adds, for
  /// the maps that have one: the default figure's attention panel, `query`, `cls`, `rollout` and the gradient maps.
  func singleMap() throws(VisionAttentionError) -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])])? {
    switch settings.map {
    case nil:
      // The model's readout as the styled figure shows it: the class token, else an
      // attention-pooling head.
      if settings.query == nil, let values = attention.classTokenMap(layer: layer, selection) ?? attention.poolMap(selection) { return (values, []) }
      return (attention.queryMap(column: patch.column, row: patch.row, layer: layer, selection), [])
    case .query:
      return (attention.queryMap(column: patch.column, row: patch.row, layer: layer, selection), [])
    case .cls:
      // Without a class token, an attention-pooling head's query stands in (as the styled
      // figure does, saying so in its caption).
      guard let values = attention.classTokenMap(layer: layer, selection) ?? attention.poolMap(selection) else { throw .needsClassToken(map: "cls") }
      return (values, [])
    case .rollout:
      // As the styled figure: the whole [T, T] rollout from a full record, the one row
      // carried down the layers from a rows record (above the full-attention limit).
      let fusion = settings.fuse ?? .mean
      let row = attention.hasClassToken ? 0 : attention.token(column: patch.column, row: patch.row)
      guard attention.isFull else {
        let values = attention.rolloutRow(row, fusion, discardRatio: settings.discardRatio)
        return (attention.patchMap(ofRow: values), [("rollout_row", [attention.tokens], values)])
      }
      let rollout = attention.rollout(fusion, discardRatio: settings.discardRatio)
      return (attention.patchMap(of: rollout, query: row), [("rollout", [attention.tokens, attention.tokens], rollout)])
    case .gradrollout, .gradcam, .attngrad:
      let (values, _, tensors) = try gradientMap()
      return (values, tensors)
    case .heads, .mask, .distance, .posembed, .sagan, .rf:
      return nil
    }
  }

  /// The map colour-mapped over the model's input at its size: no title, caption, colour bar
  /// or marker, as DINO's and vit-explain's scripts write them.
  func bareFigure() throws(VisionAttentionError) -> RenderedFigure {
    guard let (values, tensors) = try singleMap() else {
      throw .bareNeedsOneMap(map: settings.map?.rawValue ?? "default")
    }
    let overlay = ImageAttention.overlay(
      values, on: image, gridWidth: attention.gridWidth, gridHeight: attention.gridHeight,
      colormap: settings.colormap, alpha: settings.alpha, upsample: settings.upsample)
    return RenderedFigure(image: overlay, tensors: tensors)
  }
}
