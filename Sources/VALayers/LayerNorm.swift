import VATensorCore

/// Normalisation over the last axis with a learned scale: layer normalisation with a shift
/// (Ba et al. 2016), or its root-mean-square variant without mean or shift (RMSNorm, Zhang &
/// Sennrich 2019; AIMv2).
///
/// Shapes: `x` is `[..., C]`, `weight` and `bias` `[C]`; the output has the shape of `x`.
/// Matches `torch.nn.LayerNorm(C, eps=eps)` (`.layer`) and timm's `RmsNorm(C, eps=eps)` (`.rms`).
public struct LayerNorm: ParameterContainer, Sendable {
  /// Which normalisation a layer computes; what a model's configuration chooses once for all its norms.
  public enum Kind: String, Sendable, CaseIterable {
    /// `(x − mean) / √(var + eps) · γ + β` (`torch.nn.LayerNorm`).
    case layer
    /// `x / √(mean(x²) + eps) · γ` (timm's `RmsNorm`, which has no bias).
    case rms
  }

  /// Which normalisation this layer computes.
  public let kind: Kind
  /// The learned scale γ, `[C]`; ones at initialisation.
  public var weight: Tensor
  /// The learned shift β, `[C]` (zeros at initialisation), or nil for RMSNorm, which has none.
  public var bias: Tensor?
  /// timm's ViTs use 1e-6 (its RmsNorm's default too), Hugging Face's 1e-12, PyTorch's
  /// default is 1e-5 (AIMv2's RmsNorm).
  public var eps: Float

  /// A layer with the given scale and shift, both `[C]` (checked by a precondition); `.rms`
  /// takes no shift and `.layer` needs one.
  public init(kind: Kind = .layer, weight: Tensor, bias: Tensor?, eps: Float) {
    precondition(weight.rank == 1, "LayerNorm weight \(weight.shape) must be [C]")
    precondition((bias == nil) == (kind == .rms), "\(kind) norm \(bias == nil ? "needs" : "has no") bias")
    if let bias { precondition(bias.shape == weight.shape, "LayerNorm weight \(weight.shape) and bias \(bias.shape) must be the same [C]") }
    self.kind = kind
    self.weight = weight
    self.bias = bias
    self.eps = eps
  }

  /// The identity-initialised layer over `channels` features: γ = 1, β = 0 (`.layer` only).
  public init(kind: Kind = .layer, channels: Int, eps: Float) {
    self.init(kind: kind, weight: Tensor.ones([channels]), bias: kind == .layer ? Tensor.zeros([channels]) : nil, eps: eps)
  }

  /// The normalised `x` over the last axis; `[..., C]` → `[..., C]`. Under autograd both
  /// kinds record their own backward (`layerNorm`, `rmsNorm` in VATensorCore).
  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch kind {
    case .layer: layerNorm(x, weight: weight, bias: bias, eps: eps)
    case .rms: rmsNorm(x, weight: weight, eps: eps)
    }
  }

  /// `weight` and, for `.layer`, `bias`, under PyTorch's state-dict names.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }
}
