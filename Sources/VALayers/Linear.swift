import VATensorCore

/// A fully connected layer, `y = x · Wᵀ + b`.
///
/// Shapes: `x` is `[..., in]`, `weight` `[out, in]` (PyTorch's `nn.Linear` layout), `bias`
/// `[out]`; the output is `[..., out]`.
public struct Linear: ParameterContainer, Sendable {
  public var weight: Tensor
  public var bias: Tensor?

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

  public var inputs: Int { weight.shape[1] }
  public var outputs: Int { weight.shape[0] }

  public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight, bias: bias) }

  public var namedParameters: [(name: String, tensor: Tensor)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }
}

/// Layer normalisation over the last axis with a learned scale and shift (Ba et al. 2016).
public struct LayerNorm: ParameterContainer, Sendable {
  public var weight: Tensor
  public var bias: Tensor
  /// timm's ViTs use 1e-6, Hugging Face's 1e-12, PyTorch's default is 1e-5.
  public var eps: Float

  public init(weight: Tensor, bias: Tensor, eps: Float) {
    precondition(weight.rank == 1 && bias.shape == weight.shape, "LayerNorm weight \(weight.shape) and bias \(bias.shape) must be the same [C]")
    self.weight = weight
    self.bias = bias
    self.eps = eps
  }

  public init(channels: Int, eps: Float) {
    self.init(weight: Tensor.ones([channels]), bias: Tensor.zeros([channels]), eps: eps)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight, bias: bias, eps: eps) }

  public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// The transformer's feed-forward network: `fc2(GELU(fc1(x)))` (timm's `Mlp`), or with a
/// `gate` the SwiGLU form `fc2(SiLU(gate(x)) ⊙ fc1(x))` (Shazeer 2020; timm's `SwiGLU` and
/// `GluMlp`, EVA-02), with an optional LayerNorm on the hidden features before `fc2`
/// (timm's `scale_mlp`).
public struct Mlp: ParameterContainer, Sendable {
  public var fc1: Linear
  public var fc2: Linear
  public var approximation: GELUApproximation
  /// SwiGLU's gate projection (D -> hidden), or nil for the GELU form.
  public var gate: Linear?
  /// LayerNorm over the hidden features, or nil.
  public var hiddenNorm: LayerNorm?

  public init(fc1: Linear, fc2: Linear, approximation: GELUApproximation = .exact, gate: Linear? = nil, hiddenNorm: LayerNorm? = nil) {
    precondition(fc1.outputs == fc2.inputs && fc2.outputs == fc1.inputs, "Mlp fc1 \(fc1.weight.shape) and fc2 \(fc2.weight.shape) do not chain")
    if let gate { precondition(gate.weight.shape == fc1.weight.shape, "SwiGLU gate \(gate.weight.shape) must match fc1 \(fc1.weight.shape)") }
    self.fc1 = fc1
    self.fc2 = fc2
    self.approximation = approximation
    self.gate = gate
    self.hiddenNorm = hiddenNorm
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var hidden: Tensor
    if let gate {
      let g = gate(x)
      hidden = g * g.sigmoid() * fc1(x)  // SiLU(g) = g·σ(g)
    } else {
      hidden = gelu(fc1(x), approximation: approximation)
    }
    if let hiddenNorm { hidden = hiddenNorm(hidden) }
    return fc2(hidden)
  }

  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("fc1", fc1)
    if let gate { out += prefixed("fc1_g", gate) }
    if let hiddenNorm { out += prefixed("norm", hiddenNorm) }
    return out + prefixed("fc2", fc2)
  }
}

/// Per-channel scaling of a residual branch (Touvron et al. 2021, CaiT), `x · γ`.
public struct LayerScale: ParameterContainer, Sendable {
  public var gamma: Tensor

  public init(gamma: Tensor) {
    precondition(gamma.rank == 1, "LayerScale gamma must be [C], got \(gamma.shape)")
    self.gamma = gamma
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { x * gamma }

  public var namedParameters: [(name: String, tensor: Tensor)] { [("gamma", gamma)] }
}
