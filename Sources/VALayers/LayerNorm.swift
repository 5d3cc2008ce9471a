import VATensorCore

/// Layer normalisation over the last axis with a learned scale and shift (Ba et al. 2016).
///
/// Shapes: `x` is `[..., C]`, `weight` and `bias` `[C]`; the output has the shape of `x`.
/// Matches `torch.nn.LayerNorm(C, eps=eps)`.
public struct LayerNorm: ParameterContainer, Sendable {
  /// The learned scale γ, `[C]`; ones at initialisation.
  public var weight: Tensor
  /// The learned shift β, `[C]`; zeros at initialisation.
  public var bias: Tensor
  /// timm's ViTs use 1e-6, Hugging Face's 1e-12, PyTorch's default is 1e-5.
  public var eps: Float

  /// A layer with the given scale and shift, both `[C]` (checked by a precondition).
  public init(weight: Tensor, bias: Tensor, eps: Float) {
    precondition(weight.rank == 1 && bias.shape == weight.shape, "LayerNorm weight \(weight.shape) and bias \(bias.shape) must be the same [C]")
    self.weight = weight
    self.bias = bias
    self.eps = eps
  }

  /// The identity-initialised layer over `channels` features: γ = 1, β = 0.
  public init(channels: Int, eps: Float) {
    self.init(weight: Tensor.ones([channels]), bias: Tensor.zeros([channels]), eps: eps)
  }

  /// `(x − mean) / √(var + eps) · γ + β` over the last axis; `[..., C]` → `[..., C]`.
  public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight, bias: bias, eps: eps) }

  /// `weight` and `bias`, under PyTorch's state-dict names.
  public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}
