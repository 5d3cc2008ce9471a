import VATensorCore

/// Spectral normalisation (Miyato et al. 2018): a weight divided by its largest singular
/// value, estimated by power iteration with the vectors kept between calls, as
/// `torch.nn.utils.spectral_norm` does.
///
/// Shapes: `weight` is `[out, in]`; `u` is `[out]`, `v` is `[in]`.
/// `σ = uᵀ W v` with `u`, `v` held constant, so the backward differentiates `W / σ` through
/// `W` only (PyTorch's convention).
public struct SpectralNorm: Sendable {
  /// The left singular vector estimate, `[out]`, kept between calls.
  public private(set) var u: [Float]
  /// The right singular vector estimate, `[in]`, kept between calls.
  public private(set) var v: [Float]

  /// Starts the power iteration from normalised random vectors.
  public init<G: RandomNumberGenerator>(rows: Int, columns: Int, using rng: inout G) {
    u = Self.normalised(Tensor.randomNormal([rows], using: &rng).scalars)
    v = Self.normalised(Tensor.randomNormal([columns], using: &rng).scalars)
  }

  /// `W / σ(W)`; with `iterate` (training), one power iteration first updates `u` and `v`:
  /// `v ← Wᵀu / ‖Wᵀu‖`, `u ← W v / ‖W v‖`.
  public mutating func callAsFunction(_ weight: Tensor, iterate: Bool) -> Tensor {
    let rows = weight.shape[0], columns = weight.shape[1]
    precondition(u.count == rows && v.count == columns, "spectral norm vectors \(u.count)x\(v.count) do not fit weight \(weight.shape)")
    let w = weight.scalars
    if iterate {
      v = Self.normalised((0..<columns).map { j in (0..<rows).reduce(Float(0)) { $0 + w[$1 * columns + j] * u[$1] } })
      u = Self.normalised((0..<rows).map { i in (0..<columns).reduce(Float(0)) { $0 + w[i * columns + $1] * v[$1] } })
    }
    // σ = uᵀ W v = Σ (u vᵀ ⊙ W), differentiable in W with u, v constant.
    let outer = Tensor(shape: [rows, columns], scalars: (0..<(rows * columns)).map { u[$0 / columns] * v[$0 % columns] })
    let sigma = (weight * outer).sum()
    return weight / sigma
  }

  static func normalised(_ x: [Float]) -> [Float] {
    let norm = max(x.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
    return x.map { $0 / norm }
  }
}
