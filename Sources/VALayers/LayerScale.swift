import VATensorCore

/// Per-channel scaling of a residual branch (Touvron et al. 2021, CaiT), `x · γ`.
///
/// Shapes: `x` is `[..., C]`, `gamma` `[C]`. Matches timm's `LayerScale`.
public struct LayerScale: ParameterContainer, Sendable {
  /// The per-channel scale γ, `[C]` (timm initialises it to a small constant such as 1e-5).
  public var gamma: Tensor

  /// A layer with the given scale, `[C]` (checked by a precondition).
  public init(gamma: Tensor) {
    precondition(gamma.rank == 1, "LayerScale gamma must be [C], got \(gamma.shape)")
    self.gamma = gamma
  }

  /// `x · γ`, broadcast over the last axis.
  public func callAsFunction(_ x: Tensor) -> Tensor { x * gamma }

  /// `gamma`, under timm's state-dict name.
  public var namedParameters: [(name: String, tensor: Tensor)] { [("gamma", gamma)] }
}
