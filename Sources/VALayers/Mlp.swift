import VATensorCore

/// The transformer's feed-forward network: `fc2(GELU(fc1(x)))` (timm's `Mlp`), or with a
/// `gate` the SwiGLU form `fc2(SiLU(gate(x)) ⊙ fc1(x))` (Shazeer 2020; timm's `SwiGLU` and
/// `GluMlp`, EVA-02), with an optional LayerNorm on the hidden features before `fc2`
/// (timm's `scale_mlp`).
///
/// Shapes: `x` is `[T, D]`, the hidden features `[T, H]`, the output `[T, D]`.
public struct Mlp: ParameterContainer, Sendable {
  /// The first projection, D → H (the value branch in the SwiGLU form).
  public var fc1: Linear
  /// The second projection, H → D.
  public var fc2: Linear
  /// Which GELU the plain form applies (ignored with a `gate`: SwiGLU uses SiLU).
  public var approximation: GELUApproximation
  /// SwiGLU's gate projection (D -> hidden), or nil for the GELU form.
  public var gate: Linear?
  /// LayerNorm over the hidden features, or nil.
  public var hiddenNorm: LayerNorm?

  /// An MLP from its projections; preconditions check that `fc1` and `fc2` chain
  /// (D → H → D) and that `gate` has `fc1`'s shape.
  public init(fc1: Linear, fc2: Linear, approximation: GELUApproximation = .exact, gate: Linear? = nil, hiddenNorm: LayerNorm? = nil) {
    precondition(fc1.outputs == fc2.inputs && fc2.outputs == fc1.inputs, "Mlp fc1 \(fc1.weight.shape) and fc2 \(fc2.weight.shape) do not chain")
    if let gate { precondition(gate.weight.shape == fc1.weight.shape, "SwiGLU gate \(gate.weight.shape) must match fc1 \(fc1.weight.shape)") }
    self.fc1 = fc1
    self.fc2 = fc2
    self.approximation = approximation
    self.gate = gate
    self.hiddenNorm = hiddenNorm
  }

  /// The feed-forward output, `[T, D]` → `[T, D]`.
  public func callAsFunction(_ x: Tensor) -> Tensor { fc2(hidden(x)) }

  /// `residual + self(x)`, the sum in fc2's GEMM epilogue (`linear(_:weight:bias:addingTo:)`:
  /// the same bits as the composed sum, which it is under autograd). `residual` is `[T, D]`.
  public func callAsFunction(_ x: Tensor, addingTo residual: Tensor) -> Tensor {
    linear(hidden(x), weight: fc2.weight, bias: fc2.bias, addingTo: residual)
  }

  /// `self(norm(x))`, `[T, D]` → `[T, D]`, with a `.layer` norm applied while fc1's GEMM packs
  /// `x` (`Linear.callAsFunction(_:normalizedBy:activation:)`): a pre-norm block's
  /// `mlp(norm2(x))` without the normalised tensor (the composed pass under autograd).
  public func callAsFunction(_ x: Tensor, normalizedBy norm: LayerNorm) -> Tensor { fc2(hidden(x, normalizedBy: norm)) }

  /// `residual + self(norm(x))`, the norm in fc1's packing and the sum in fc2's epilogue.
  /// `x` and `residual` are `[T, D]`.
  public func callAsFunction(_ x: Tensor, normalizedBy norm: LayerNorm, addingTo residual: Tensor) -> Tensor {
    linear(hidden(x, normalizedBy: norm), weight: fc2.weight, bias: fc2.bias, addingTo: residual)
  }

  /// The hidden features `[T, H]` fc2 reads, from `norm(x)` (or `x` without a norm).
  private func hidden(_ x: Tensor, normalizedBy norm: LayerNorm? = nil) -> Tensor {
    var hidden: Tensor
    if let gate {
      let x = norm.map { $0(x) } ?? x  // read by two projections: normalised once
      let g = gate(x)
      hidden = g * g.sigmoid() * fc1(x)  // SiLU(g) = g·σ(g)
    } else {
      // The norm in fc1's packing of x and GELU's exact form in its epilogue (each the composed
      // op when gradients are recorded); the approximate forms after the GEMM.
      let exact = approximation == .exact
      let projected = fc1(x, normalizedBy: norm, activation: exact ? .gelu : .none)
      hidden = exact ? projected : gelu(projected, approximation: approximation)
    }
    if let hiddenNorm { hidden = hiddenNorm(hidden) }
    return hidden
  }

  /// Parameters under timm's names: `fc1.*`, `fc1_g.*` (the gate), `norm.*`, `fc2.*`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("fc1", fc1)
    if let gate { out += prefixed("fc1_g", gate) }
    if let hiddenNorm { out += prefixed("norm", hiddenNorm) }
    return out + prefixed("fc2", fc2)
  }
}
