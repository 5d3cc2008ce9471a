import VATensorCore

/// Multi-head self-attention over a sequence of tokens.
///
/// Shapes: `x` is `[T, C]` (T tokens, C channels) or a batch `[B, T, C]`; the output has the
/// shape of `x`; recorded weights are `[heads, T, T]` (`[B, heads, T, T]`; row = query, column =
/// key), post-softmax.
/// `Q, K, V = x·W_qkvᵀ + b`, per head `A = softmax(Q Kᵀ / √d + mask)`, `out = A V`, heads
/// concatenated and projected. Reference: Vaswani et al. 2017 §3.2.2; matches
/// `timm.layers.Attention` (fused `qkv` rows ordered q, k, v; each split head-major).
public struct MultiHeadSelfAttention: ParameterContainer, Sendable {
  /// The fused query, key and value projection, C → 3C, rows ordered q, k, v (timm's `qkv`).
  public var qkv: Linear
  /// The output projection of the concatenated heads, C → C (timm's `proj`).
  public var projection: Linear
  /// The number of heads; each is `channels / headCount` wide.
  public let headCount: Int
  /// LayerNorm on the merged heads before the projection (timm's `scale_attn_inner`,
  /// EVA-02 CLIP's sub-LN), or nil.
  public var innerNorm: LayerNorm? = nil

  /// A layer from its projections; preconditions check that `qkv` is `[3C, C]` and that `C`
  /// divides into `headCount` heads.
  public init(qkv: Linear, projection: Linear, headCount: Int) {
    let channels = projection.outputs
    precondition(qkv.outputs == 3 * channels && qkv.inputs == channels, "qkv \(qkv.weight.shape) must be [3C, C] for C = \(channels)")
    precondition(headCount > 0 && channels % headCount == 0, "channels \(channels) must divide into \(headCount) heads")
    self.qkv = qkv
    self.projection = projection
    self.headCount = headCount
  }

  /// Token counts above which inference without recording runs tiled. Measured with
  /// `vit-bench attention` (6 heads of 64, Benchmarks/logs/2026-11-30-attention-kernel.log):
  /// tiled / plain 1.2 at T = 197, 0.8 at 785, 0.5 at 3137.
  public static let tiledFromTokens = 384

  /// The token width `C`.
  public var channels: Int { projection.outputs }
  /// The width `d = C / heads` of one head; scores are scaled by `1/√d`.
  public var headDimension: Int { channels / headCount }

  /// The attended tokens and, with `record`, the attention weights.
  ///
  /// - Parameters:
  ///   - x: `[T, C]`, or a batch `[B, T, C]`.
  ///   - norm: a LayerNorm the layer applies to `x` first (a pre-norm block's `norm1`), for a
  ///     `.layer` norm while qkv's GEMM packs `x`, so no normalised tensor is made (see
  ///     `Linear.callAsFunction(_:normalizedBy:activation:)`); nil reads `x` as it is.
  ///   - mask: additive `[T, T]` mask (0 keep, −∞ drop), or nil for full attention.
  ///   - bias: additive per-head `[heads, T, T]` scores (BEiT's relative position bias), or nil.
  ///   - rotary: rotary position embedding for q and k (EVA-02), or nil.
  ///   - record: when true, also returns the attention weights (`[heads, T, T]`, or
  ///     `[B, heads, T, T]` for a batch); the output is the same either way up to float
  ///     rounding (recording computes every weight first; not recording runs tiled). When
  ///     gradients are recorded, the weights are part of the graph: `retainGrad()` on them
  ///     gives ∂y/∂A after `backward()`.
  ///   - observe: called with the fused projection `[B, T, 3C]` (q, k, v; timm's column
  ///     layout, q and k already rotated by `rotary`) before attention, so a caller can keep
  ///     queries and keys or compute chosen attention rows (`attentionRows`) without the full
  ///     matrices. Rows recomputed from them leave out `mask` and `bias`.
  /// In inference without `record`, attention runs tiled (`tiledSelfAttention`): O(T·C)
  /// memory, no `[T, T]` matrix; below `tiledFromTokens` tokens the plain path, whose
  /// `[heads, T, T]` is then a few MB at most, is kept because it is faster there. Under
  /// autograd without `record` (training), the fused attention records one node with a
  /// hand-written backward (`fusedSelfAttentionOutput`); `record` or a bias that requires a
  /// gradient keeps the composed ops, so the weights' own gradient can be read.
  public func callAsFunction(
    _ x: Tensor, normalizedBy norm: LayerNorm? = nil, mask: Tensor? = nil, bias: Tensor? = nil, rotary: RotaryEmbedding? = nil,
    record: Bool = false, observe: ((Tensor) -> Void)? = nil
  ) -> (output: Tensor, weights: Tensor?) {
    precondition(x.rank == 2 || x.rank == 3, "attention needs [T, C] or [B, T, C], got \(x.shape)")
    let b = x.rank == 3 ? x.shape[0] : 1, t = x.shape[x.rank - 2], h = headCount, d = headDimension
    var projected = qkv(x, normalizedBy: norm)
    if let rotary { projected = rotary.apply(toQKV: projected.reshaped([b, t, 3 * h * d]), heads: h).reshaped(projected.shape) }
    observe?(projected.reshaped([b, t, 3 * h * d]))
    let packed = projected.reshaped([b, t, 3 * h * d])
    let training = projected.requiresGrad && GradientMode.isEnabled
    if !training && !record && t > Self.tiledFromTokens {
      // Long sequences in inference: tiled, no [T, T] at all. The kernel takes one additive
      // bias: the mask and the per-head bias together.
      let additive = bias.map { bias in mask.map { bias + $0 } ?? bias } ?? mask
      let merged = tiledSelfAttention(qkv: packed, heads: h, bias: additive).reshaped(x.shape)
      return (projection(innerNorm.map { $0(merged) } ?? merged), nil)
    }
    if !record && !(bias?.requiresGrad ?? false) {
      // The products read q, k, v in place. Inference keeps the scores in reused per-thread
      // blocks; training keeps the weights and records one fused backward node.
      let heads = fusedSelfAttentionOutput(qkv: packed, heads: h, mask: mask, bias: bias).reshaped(x.shape)
      return (projection(innerNorm.map { $0(heads) } ?? heads), nil)
    }
    if !training {
      // Inference with recording: the recorded weights are the scores' own buffer.
      let (merged, weights) = fusedSelfAttention(qkv: packed, heads: h, mask: mask, bias: bias)
      let heads = merged.reshaped(x.shape)
      return (projection(innerNorm.map { $0(heads) } ?? heads), weights.reshaped((x.rank == 3 ? [b] : []) + [h, t, t]))
    }
    // Recording under autograd (gradient attribution needs ∂y/∂A) or a trained bias: composed.
    // [B, T, 3C] -> [B, T, 3, H, d] -> [3, B, H, T, d]; batch and heads fold into one GEMM batch.
    let parts = projected.reshaped([b, t, 3, h, d]).permuted([2, 0, 3, 1, 4]).chunked(3, axis: 0).map { $0.reshaped([b * h, t, d]) }
    var scores = matmul(parts[0], parts[1], transposeB: true) * (1 / Float(d).squareRoot())  // [B·H, T, T]
    if let bias { scores = (scores.reshaped([b, h, t, t]) + bias).reshaped([b * h, t, t]) }
    var weights = softmax(scores, axis: -1, mask: mask)
    var recorded: Tensor?
    if record {
      // The recorded view is the tensor the product reads (reshapes share the buffer), so
      // after `retainGrad()` and `backward()` its `grad` is ∂y/∂A (gradient attribution).
      let view = weights.reshaped((x.rank == 3 ? [b] : []) + [h, t, t])
      (recorded, weights) = (view, view.reshaped([b * h, t, t]))
    }
    let heads = matmul(weights, parts[2])  // [B·H, T, d]
    let merged = heads.reshaped([b, h, t, d]).permuted([0, 2, 1, 3]).reshaped(Array(x.shape.dropLast()) + [h * d])
    return (projection(innerNorm.map { $0(merged) } ?? merged), recorded)
  }

  /// Parameters under timm's names: `qkv.*`, `norm.*` (the inner norm), `proj.*`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("qkv", qkv) + (innerNorm.map { prefixed("norm", $0) } ?? []) + prefixed("proj", projection)
  }
}
