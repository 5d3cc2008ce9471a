import VATensorCore

/// How the heads of one layer are combined into a single map.
public enum HeadFusion: String, CaseIterable, Sendable {
  /// The element-wise mean, maximum or minimum over the heads (vit-explain's `head_fusion`).
  case mean, max, min
}

/// The attention a model computed on one image: every layer's post-softmax weights, or only
/// the rows a map needs.
///
/// Token order is the model's: class token (if any), register tokens, then patches
/// row-major over a `gridWidth × gridHeight` grid (never assumed square). Layers and heads
/// count from 0.
///
/// Two forms: *full* (`rowTokens == nil`) keeps `[heads, T, T]` per layer, O(L·H·T²);
/// *rows* keeps `[heads, R, T]` per layer for the R query tokens `rowTokens`, and optionally
/// each layer's queries and keys (`queriesKeys`, O(L·T·C)) from which any other row, rollout
/// and attention distance are recomputed in tiles (`AttentionRecord+Streaming.swift`).
public struct AttentionRecord: Sendable {
  /// `layers[l]` is `[heads, R, T]` row-major: row = query token (`rowTokens[r]`, or `r`
  /// itself in a full record, where R = T), column = key token.
  public var layers: [[Float]]
  /// Attention heads per layer.
  public let heads: Int
  /// Tokens `T` per layer: `prefixTokens` plus the patches.
  public let tokens: Int
  /// Tokens before the patches: class token plus registers.
  public let prefixTokens: Int
  /// Whether token 0 is a class token.
  public let hasClassToken: Bool
  /// Patch columns of the image.
  public let gridWidth: Int
  /// Patch rows of the image.
  public let gridHeight: Int
  /// The query tokens of the stored rows, or nil when every row is stored.
  public let rowTokens: [Int]?
  /// Per layer, that layer's queries and keys `[T, 2C]` (`QueryKeyLayout.compact`), or empty.
  /// Recomputed rows assume attention without a mask or bias, as the checkpoint ViTs run.
  public let queriesKeys: [[Float]]
  /// Channels per head of `queriesKeys` (0 without them).
  public let headDimension: Int
  /// The attention-pooling head's weights `[poolHeads, 1, N]` over the patches, when the
  /// model pools by attention (timm's `AttentionPoolLatent`, `global_pool='map'`; SigLIP's
  /// head), else nil. Its one learned query reads the patches only, so the row has no prefix
  /// columns; read it through `poolMap(_:)` (`AttentionRecord+Pool.swift`).
  public let pool: [Float]?

  /// A full record: `layers[l]` is `[heads, T, T]`.
  /// `pool` is the attention-pooling head's `[poolHeads, 1, N]`, when the model has one.
  public init(
    layers: [[Float]], heads: Int, prefixTokens: Int, hasClassToken: Bool, gridWidth: Int, gridHeight: Int,
    pool: [Float]? = nil
  ) {
    let tokens = prefixTokens + gridWidth * gridHeight
    self.init(
      layers: layers, rowTokens: nil, queriesKeys: [], headDimension: 0, heads: heads, tokens: tokens,
      prefixTokens: prefixTokens, hasClassToken: hasClassToken, gridWidth: gridWidth, gridHeight: gridHeight, pool: pool)
  }

  /// A rows record: `layers[l]` is `[heads, R, T]` for the query tokens `rowTokens`;
  /// `queriesKeys` (each `[T, 2·heads·headDimension]`) may be empty; `pool` as in the full
  /// record (the pooling head's weights are small, so a rows record keeps them whole).
  public init(
    rows layers: [[Float]], rowTokens: [Int], queriesKeys: [[Float]] = [], headDimension: Int = 0, heads: Int,
    prefixTokens: Int, hasClassToken: Bool, gridWidth: Int, gridHeight: Int, pool: [Float]? = nil
  ) {
    let tokens = prefixTokens + gridWidth * gridHeight
    self.init(
      layers: layers, rowTokens: rowTokens, queriesKeys: queriesKeys, headDimension: headDimension, heads: heads,
      tokens: tokens, prefixTokens: prefixTokens, hasClassToken: hasClassToken, gridWidth: gridWidth, gridHeight: gridHeight,
      pool: pool)
  }

  private init(
    layers: [[Float]], rowTokens: [Int]?, queriesKeys: [[Float]], headDimension: Int, heads: Int, tokens: Int,
    prefixTokens: Int, hasClassToken: Bool, gridWidth: Int, gridHeight: Int, pool: [Float]?
  ) {
    let rows = rowTokens?.count ?? tokens
    for (l, layer) in layers.enumerated() {
      precondition(layer.count == heads * rows * tokens, "layer \(l) has \(layer.count) weights, expected \(heads)x\(rows)x\(tokens)")
    }
    precondition(rowTokens?.allSatisfy { (0..<tokens).contains($0) } ?? true, "row tokens \(rowTokens ?? []) outside 0..<\(tokens)")
    precondition(queriesKeys.isEmpty || queriesKeys.count == layers.count, "queries and keys for \(queriesKeys.count) of \(layers.count) layers")
    for qk in queriesKeys {
      precondition(qk.count == tokens * 2 * heads * headDimension, "queries and keys hold \(qk.count) values, expected \(tokens)x2x\(heads)x\(headDimension)")
    }
    precondition(!hasClassToken || prefixTokens >= 1, "a class token is a prefix token")
    let n = gridWidth * gridHeight
    precondition(pool.map { !$0.isEmpty && $0.count % n == 0 } ?? true, "pooling weights hold \(pool?.count ?? 0) values, not [heads, 1, \(n)]")
    self.layers = layers
    self.heads = heads
    self.tokens = tokens
    self.prefixTokens = prefixTokens
    self.hasClassToken = hasClassToken
    self.gridWidth = gridWidth
    self.gridHeight = gridHeight
    self.rowTokens = rowTokens
    self.queriesKeys = queriesKeys
    self.headDimension = headDimension
    self.pool = pool
  }

  /// Patches `N = gridWidth · gridHeight`, the tokens after the prefix.
  public var patchCount: Int { gridWidth * gridHeight }

  /// Whether every row of every layer is stored.
  public var isFull: Bool { rowTokens == nil }

  /// Rows stored per head and layer (T in a full record).
  public var storedRows: Int { rowTokens?.count ?? tokens }

  /// The token index of patch `(column, row)`.
  public func token(column: Int, row: Int) -> Int { prefixTokens + row * gridWidth + column }

  /// Whether `headRow` can answer for `token`: stored, or recomputable.
  public func hasRow(_ token: Int) -> Bool {
    isFull || rowTokens!.contains(token) || !queriesKeys.isEmpty
  }

  /// One head's weights from query `token` to every token at `layer`, `[T]`: stored, or
  /// recomputed from the layer's queries and keys.
  /// - Precondition: `hasRow(token)`.
  public func headRow(_ head: Int, layer: Int, token: Int) -> [Float] {
    let t = tokens
    if let index = isFull ? token : rowTokens!.firstIndex(of: token) {
      let start = (head * storedRows + index) * t
      return Array(layers[layer][start..<(start + t)])
    }
    precondition(!queriesKeys.isEmpty, "row \(token) was not recorded and no queries and keys were kept to recompute it")
    let all = attentionRows(queriesKeys: queriesKeys[layer], layout: queryKeyLayout, rows: [token])
    return Array(all[(head * t)..<((head + 1) * t)])
  }

  /// Rows of the query tokens `tokens` at `layer` for every head, `[heads, R, T]`: the stored
  /// block when it is exactly those rows, else gathered (or recomputed) row by row.
  public func rows(layer: Int, tokens: [Int]) -> [Float] {
    if let rowTokens, rowTokens == tokens { return layers[layer] }
    var out: [Float] = []
    out.reserveCapacity(heads * tokens.count * self.tokens)
    for h in 0..<heads {
      for token in tokens { out += headRow(h, layer: layer, token: token) }
    }
    return out
  }

  /// Every head's row from `token` at `layer`, combined by `selection`, `[T]`.
  public func row(_ token: Int, layer: Int, _ selection: HeadSelection) -> [Float] {
    switch selection {
    case .head(let h): return headRow(h, layer: layer, token: token)
    case .fused(let fusion):
      var out = headRow(0, layer: layer, token: token)
      for h in 1..<Swift.max(heads, 1) { Self.combine(&out, headRow(h, layer: layer, token: token), fusion) }
      if fusion == .mean { out = out.map { $0 / Float(heads) } }
      return out
    }
  }

  /// The layout of `queriesKeys[l]`.
  public var queryKeyLayout: QueryKeyLayout {
    .compact(tokens: tokens, heads: heads, headDimension: headDimension)
  }

  /// `out ← out ∘ next` element-wise: sum for the mean (divided later), max or min.
  static func combine(_ out: inout [Float], _ next: [Float], _ fusion: HeadFusion) {
    for i in out.indices {
      switch fusion {
      case .mean: out[i] += next[i]
      case .max: out[i] = Swift.max(out[i], next[i])
      case .min: out[i] = Swift.min(out[i], next[i])
      }
    }
  }

  /// One head's `[T, T]` weights at `layer`.
  /// - Precondition: a full record.
  public func head(_ head: Int, layer: Int) -> [Float] {
    precondition(isFull, "a rows record keeps no [T, T] matrices")
    let size = tokens * tokens
    return Array(layers[layer][(head * size)..<((head + 1) * size)])
  }

  /// The heads of `layer` combined element-wise, `[T, T]`.
  /// - Precondition: a full record.
  public func fused(layer: Int, _ fusion: HeadFusion) -> [Float] {
    precondition(isFull, "a rows record keeps no [T, T] matrices")
    let size = tokens * tokens
    let weights = layers[layer]
    var out = Array(weights[0..<size])
    for h in 1..<max(heads, 1) {
      for i in 0..<size {
        let v = weights[h * size + i]
        switch fusion {
        case .mean: out[i] += v
        case .max: out[i] = Swift.max(out[i], v)
        case .min: out[i] = Swift.min(out[i], v)
        }
      }
    }
    if fusion == .mean { out = out.map { $0 / Float(heads) } }
    return out
  }

  /// Row `query` of a `[T, T]` matrix restricted to the patch columns: a map over the grid,
  /// `[gridHeight · gridWidth]` row-major.
  public func patchMap(of matrix: [Float], query: Int) -> [Float] {
    Array(matrix[(query * tokens + prefixTokens)..<((query + 1) * tokens)])
  }

  /// A `[T]` row restricted to the patch columns, `[gridHeight · gridWidth]`.
  public func patchMap(ofRow row: [Float]) -> [Float] {
    Array(row[prefixTokens...])
  }
}
