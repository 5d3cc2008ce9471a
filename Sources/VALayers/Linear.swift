import VATensorCore

/// A fully connected layer, `y = x · Wᵀ + b`.
///
/// Shapes: `x` is `[..., in]`, `weight` `[out, in]` (PyTorch's `nn.Linear` layout), `bias`
/// `[out]`; the output is `[..., out]`.
public struct Linear: ParameterContainer, Sendable {
  /// The weight matrix, `[out, in]` (PyTorch's `nn.Linear.weight`).
  public var weight: Tensor
  /// The bias, `[out]`, or nil for a layer without one (timm's `qkv_bias=False`).
  public var bias: Tensor?

  /// A layer with the given weights; a precondition checks that `bias` is `[out]`.
  ///
  /// - Parameters:
  ///   - weight: `[out, in]`.
  ///   - bias: `[out]`, or nil.
  public init(weight: Tensor, bias: Tensor?) {
    precondition(weight.rank == 2, "Linear weight must be [out, in], got \(weight.shape)")
    if let bias { precondition(bias.shape == [weight.shape[0]], "Linear bias \(bias.shape) does not match weight \(weight.shape)") }
    self.weight = weight
    self.bias = bias
  }

  /// Weights drawn from a truncated normal with std 0.02 (timm's ViT init), zero bias.
  public init<G: RandomNumberGenerator>(inputs: Int, outputs: Int, bias: Bool = true, using rng: inout G) {
    self.init(
      weight: Tensor.randomTruncatedNormal([outputs, inputs], mean: 0, std: 0.02, using: &rng),
      bias: bias ? Tensor.zeros([outputs]) : nil)
  }

  /// Input features, the width of the last axis of `x`.
  public var inputs: Int { weight.shape[1] }
  /// Output features, the width of the last axis of the result.
  public var outputs: Int { weight.shape[0] }

  /// `x · Wᵀ + b` over the last axis: `[..., in]` → `[..., out]`.
  public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight, bias: bias) }

  /// `activation(self(norm(x)))`, `[..., in]` → `[..., out]`, with the norm applied while the GEMM
  /// packs `x` when it is a `.layer` norm (`linear(layerNormed:...)`, no normalised tensor) and
  /// the exact GELU, if asked, in the GEMM's epilogue (`linearGELU`); `norm` nil is `x` as is.
  /// Each fused step is the composed op when gradients are recorded, and equal to it otherwise
  /// (the same bits for the norm; GELU within 1.5e-7).
  public func callAsFunction(_ x: Tensor, normalizedBy norm: LayerNorm?, activation: LinearActivation = .none) -> Tensor {
    guard let norm, norm.kind == .layer else {
      let input = norm.map { $0(x) } ?? x  // RMSNorm has no prologue: the composed norm
      return activation == .gelu ? linearGELU(input, weight: weight, bias: bias) : linear(input, weight: weight, bias: bias)
    }
    return linear(layerNormed: x, normWeight: norm.weight, normBias: norm.bias, eps: norm.eps, weight: weight, bias: bias, activation: activation)
  }

  /// `weight` and, if present, `bias`, under PyTorch's state-dict names.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }
}
