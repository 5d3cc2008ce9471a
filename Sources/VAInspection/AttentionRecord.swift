/// How the heads of one layer are combined into a single map.
public enum HeadFusion: String, CaseIterable, Sendable {
  case mean, max, min
}

/// The attention a model computed on one image: every layer's post-softmax weights.
///
/// Token order is the model's: class token (if any), register tokens, then patches
/// row-major over a `gridWidth × gridHeight` grid (never assumed square). Layers and heads
/// count from 0.
public struct AttentionRecord: Sendable {
  /// `layers[l]` is `[heads, T, T]` row-major: row = query token, column = key token.
  public var layers: [[Float]]
  public let heads: Int
  public let tokens: Int
  /// Tokens before the patches: class token plus registers.
  public let prefixTokens: Int
  /// Whether token 0 is a class token.
  public let hasClassToken: Bool
  public let gridWidth: Int
  public let gridHeight: Int

  public init(layers: [[Float]], heads: Int, prefixTokens: Int, hasClassToken: Bool, gridWidth: Int, gridHeight: Int) {
    let tokens = prefixTokens + gridWidth * gridHeight
    for (l, layer) in layers.enumerated() {
      precondition(layer.count == heads * tokens * tokens, "layer \(l) has \(layer.count) weights, expected \(heads)x\(tokens)x\(tokens)")
    }
    precondition(!hasClassToken || prefixTokens >= 1, "a class token is a prefix token")
    self.layers = layers
    self.heads = heads
    self.tokens = tokens
    self.prefixTokens = prefixTokens
    self.hasClassToken = hasClassToken
    self.gridWidth = gridWidth
    self.gridHeight = gridHeight
  }

  public var patchCount: Int { gridWidth * gridHeight }

  /// The token index of patch `(column, row)`.
  public func token(column: Int, row: Int) -> Int { prefixTokens + row * gridWidth + column }

  /// One head's `[T, T]` weights at `layer`.
  public func head(_ head: Int, layer: Int) -> [Float] {
    let size = tokens * tokens
    return Array(layers[layer][(head * size)..<((head + 1) * size)])
  }

  /// The heads of `layer` combined element-wise, `[T, T]`.
  public func fused(layer: Int, _ fusion: HeadFusion) -> [Float] {
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
}
