import VAInspection

/// What to keep of the attention for one image, decided before the model runs from the size
/// of its full matrices, L·H·T², against `FigureSettings.fullAttentionLimit`.
public struct AttentionPlan: Sendable {
  /// L·H·T² for this image.
  public let values: Int
  /// Whether every `[heads, T, T]` is kept (at most the limit, or a `full` dump asked for).
  public let full: Bool
  /// Query tokens whose rows are kept and dumped: the class token (0) when there is one, then
  /// the query patch's token.
  public let rowTokens: [Int]
  /// What the dump holds, nil without a dump.
  public let dumpAttention: DumpAttention?
  /// What the model keeps while it runs.
  public let capture: AttentionCapture
  /// Whether the run keeps the model's tokens (`ModelRun.features`): the map reads them.
  public let features: Bool

  /// - Throws: `VisionAttentionError.needsFullAttention` for `--discard-ratio` above the limit
  ///   (dropping the weakest weights needs whole matrices), and the query's errors.
  public init(settings: FigureSettings, model: any InspectableModel, geometry: InputGeometry, page: Bool, dump: Bool) throws(VisionAttentionError) {
    let gw = geometry.gridWidth, gh = geometry.gridHeight
    let shape = model.attentionShape(gridWidth: gw, gridHeight: gh)
    let squared = shape.tokens.multipliedReportingOverflow(by: shape.tokens)
    let total = squared.partialValue.multipliedReportingOverflow(by: shape.layers * shape.heads)
    values = squared.overflow || total.overflow ? Int.max : total.partialValue
    let withinLimit = values <= settings.fullAttentionLimit
    // A map that ignores the query still keeps the centre patch's row, so every plan has one.
    let patch = (try? geometry.resolveQuery(settings.query))?.patch ?? (column: gw / 2, row: gh / 2)
    let queryToken = shape.tokens - gw * gh + patch.row * gw + patch.column
    rowTokens = (shape.hasClassToken ? [0] : []) + [queryToken]
    let map = MapRegistry.spec(settings.map)
    // The page offers the maps of the tokens whatever --map is.
    features = map.needs.contains(.tokens) || page
    // A map of the tokens reads no attention: it keeps only the rows of `rowTokens` (O(H·R·T)
    // per layer, never a [heads, T, T]) unless a dump or the page asks for more.
    let attentionless = features && !page
    dumpAttention = dump ? settings.dumpAttention ?? (withinLimit && !attentionless ? .full : .rows) : nil
    // Gradient maps differentiate through every weight.
    full = (withinLimit && !attentionless) || dumpAttention == .full || map.needsGradients
    if !full, map.reads.contains(.discardRatio) || page, settings.discardRatio > 0 {
      throw .needsFullAttention(what: "--discard-ratio", values: values, limit: settings.fullAttentionLimit)
    }
    // Rollout and distance recompute every layer's rows; the page recomputes a hovered
    // patch's rows in the browser from the same queries and keys.
    let queriesKeys = page || map.needs.contains(.queriesKeys)
    capture = full ? .full : .rows(tokens: rowTokens, queriesKeys: queriesKeys)
  }
}
