import TensorCore

/// Multi-head self-attention over a sequence of tokens.
///
/// Shapes: `x` is `[T, C]` (T tokens, C channels); the output is `[T, C]`; recorded weights
/// are `[heads, T, T]` (row = query, column = key), post-softmax.
/// `Q, K, V = x·W_qkvᵀ + b`, per head `A = softmax(Q Kᵀ / √d + mask)`, `out = A V`, heads
/// concatenated and projected. Reference: Vaswani et al. 2017 §3.2.2; matches
/// `timm.layers.Attention` (fused `qkv` rows ordered q, k, v; each split head-major).
public struct MultiHeadSelfAttention: ParameterContainer, Sendable {
  public var qkv: Linear        // C -> 3C
  public var projection: Linear // C -> C
  public let headCount: Int

  public init(qkv: Linear, projection: Linear, headCount: Int) {
    let channels = projection.outputs
    precondition(qkv.outputs == 3 * channels && qkv.inputs == channels, "qkv \(qkv.weight.shape) must be [3C, C] for C = \(channels)")
    precondition(headCount > 0 && channels % headCount == 0, "channels \(channels) must divide into \(headCount) heads")
    self.qkv = qkv
    self.projection = projection
    self.headCount = headCount
  }

  public var channels: Int { projection.outputs }
  public var headDimension: Int { channels / headCount }

  /// - Parameters:
  ///   - mask: additive `[T, T]` mask (0 keep, −∞ drop), or nil for full attention.
  ///   - record: when true, also returns the attention weights; the output is the same
  ///     either way (the weights are the same tensor the output is computed from).
  public func callAsFunction(_ x: Tensor, mask: Tensor? = nil, record: Bool = false) -> (output: Tensor, weights: Tensor?) {
    let t = x.shape[0], h = headCount, d = headDimension
    // [T, 3C] -> [T, 3, H, d] -> [3, H, T, d]
    let packed = qkv(x).reshaped([t, 3, h, d]).permuted([1, 2, 0, 3])
    let parts = packed.chunked(3, axis: 0).map { $0.reshaped([h, t, d]) }
    let scores = matmul(parts[0], parts[1], transposeB: true) * (1 / Float(d).squareRoot())  // [H, T, T]
    let weights = softmax(scores, axis: -1, mask: mask)
    let heads = matmul(weights, parts[2])  // [H, T, d]
    let merged = heads.permuted([1, 0, 2]).reshaped([t, h * d])
    return (projection(merged), record ? weights : nil)
  }

  public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("qkv", qkv) + prefixed("proj", projection) }
}
