import VATensorCore

/// A pre-norm transformer encoder block (ViT, Dosovitskiy et al. 2021):
/// `x ← x + ls1(attn(norm1(x)))`, `x ← x + ls2(mlp(norm2(x)))`, with optional LayerScale.
///
/// Shapes: `[T, C]` or `[B, T, C]` in and out. Parameter names follow timm's `Block`.
public struct TransformerBlock: ParameterContainer, Sendable {
  /// The LayerNorm before attention (timm's `norm1`).
  public var norm1: LayerNorm
  /// The self-attention (timm's `attn`).
  public var attention: MultiHeadSelfAttention
  /// LayerScale on the attention branch (timm's `ls1`), or nil.
  public var layerScale1: LayerScale?
  /// The LayerNorm before the MLP (timm's `norm2`).
  public var norm2: LayerNorm
  /// The feed-forward network (timm's `mlp`).
  public var mlp: Mlp
  /// LayerScale on the MLP branch (timm's `ls2`), or nil.
  public var layerScale2: LayerScale?

  /// A block from its parts; pass nil for the LayerScales of a ViT without them.
  public init(norm1: LayerNorm, attention: MultiHeadSelfAttention, layerScale1: LayerScale?, norm2: LayerNorm, mlp: Mlp, layerScale2: LayerScale?) {
    self.norm1 = norm1
    self.attention = attention
    self.layerScale1 = layerScale1
    self.norm2 = norm2
    self.mlp = mlp
    self.layerScale2 = layerScale2
  }

  /// `bias` is an additive per-head `[heads, T, T]` on the attention scores (BEiT), `rotary`
  /// turns q and k by their patch positions (EVA-02); nil for neither. `record` and `observe`
  /// as in `MultiHeadSelfAttention`. Neither norm's output is made: each LayerNorm is applied
  /// while the next GEMM (qkv, fc1) packs its input (`linear(layerNormed:...)`), the composed
  /// pass under autograd; use `tapped` to keep `norm1(x)`.
  public func callAsFunction(
    _ x: Tensor, mask: Tensor? = nil, bias: Tensor? = nil, rotary: RotaryEmbedding? = nil, record: Bool = false,
    observe: ((Tensor) -> Void)? = nil
  ) -> (output: Tensor, weights: Tensor?) {
    let (attended, weights) = attention(x, normalizedBy: norm1, mask: mask, bias: bias, rotary: rotary, record: record, observe: observe)
    return (feedForward(x, attended: attended), weights)
  }

  /// The same pass, also returning `norm1(x)`, the tensor the attention reads (the layer
  /// pytorch-grad-cam targets in ViTs, `blocks[i].norm1`); under autograd it is part of the
  /// graph, so `retainGrad()` on it gives its gradient. It costs the normalised tensor that
  /// `callAsFunction` does without; the output is the same bits either way.
  public func tapped(
    _ x: Tensor, mask: Tensor? = nil, bias: Tensor? = nil, rotary: RotaryEmbedding? = nil, record: Bool = false,
    observe: ((Tensor) -> Void)? = nil
  ) -> (output: Tensor, weights: Tensor?, normalized: Tensor) {
    let normalized = norm1(x)
    let (attended, weights) = attention(normalized, mask: mask, bias: bias, rotary: rotary, record: record, observe: observe)
    return (feedForward(x, attended: attended), weights, normalized)
  }

  /// The block's second half, `[T, C]` (or `[B, T, C]`) → the same: `x + ls1(attended)`, then
  /// the MLP branch on it, norm2 applied while fc1 packs its input.
  private func feedForward(_ x: Tensor, attended: Tensor) -> Tensor {
    let x = x + (layerScale1.map { $0(attended) } ?? attended)
    // Without LayerScale the residual sum rides in fc2's GEMM epilogue (the composed x + mlp
    // under autograd; the same bits either way).
    guard let layerScale2 else { return mlp(x, normalizedBy: norm2, addingTo: x) }
    return x + layerScale2(mlp(x, normalizedBy: norm2))
  }

  /// Parameters under timm's `Block` names: `norm1.*`, `attn.*`, `ls1.*`, `norm2.*`, `mlp.*`, `ls2.*`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("norm1", norm1) + prefixed("attn", attention)
    if let layerScale1 { out += prefixed("ls1", layerScale1) }
    out += prefixed("norm2", norm2) + prefixed("mlp", mlp)
    if let layerScale2 { out += prefixed("ls2", layerScale2) }
    return out
  }
}
