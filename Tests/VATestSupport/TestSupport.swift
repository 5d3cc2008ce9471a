import VATensorCore

/// Shared helpers for tests of TensorCore and the modules built on it: relative errors and a
/// central-finite-difference gradient checker that accumulates in `Double`.

/// Norm-wise relative error `‖a − b‖₂ / max(‖a‖₂, ‖b‖₂, floor)`, in `Double`.
///
/// Norm-wise rather than element-wise so that entries near zero (where any relative measure blows
/// up) do not dominate; `floor` keeps two all-zero vectors at error 0.
public func relativeError(_ a: [Float], _ b: [Float], floor: Double = 1e-12) -> Double {
  precondition(a.count == b.count, "relativeError: counts differ, \(a.count) vs \(b.count)")
  var diff = 0.0, na = 0.0, nb = 0.0
  for (x, y) in zip(a, b) {
    let dx = Double(x), dy = Double(y)
    diff += (dx - dy) * (dx - dy)
    na += dx * dx
    nb += dy * dy
  }
  return diff.squareRoot() / Swift.max(na.squareRoot(), nb.squareRoot(), floor)
}

/// Relative error between two tensors; shapes must match.
public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
  precondition(a.shape == b.shape, "relativeError: shapes differ, \(a.shape) vs \(b.shape)")
  return relativeError(a.scalars, b.scalars)
}

/// Largest absolute element-wise difference.
public func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count, "maxAbsoluteDifference: counts differ, \(a.count) vs \(b.count)")
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// `true` when every element satisfies `|a − b| <= atol + rtol · |b|` (numpy.allclose).
public func isClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= atol + rtol * abs($1) }
}

/// Result of a gradient check: per-input relative errors between analytic and numeric gradients.
public struct GradientCheckResult: CustomStringConvertible {
  /// One relative error per input (0 for inputs that do not require gradients).
  public var errors: [Double]
  /// The worst of `errors`.
  public var maxError: Double { errors.max() ?? 0 }
  /// Analytic gradients, one per input.
  public var analytic: [[Float]]
  /// Numeric gradients, one per input.
  public var numeric: [[Float]]
  /// The per-input errors, for failure messages.
  public var description: String { "gradient check errors \(errors)" }
}

/// Checks `f`'s backward against central finite differences for every input that requires grad.
///
/// The scalar probed is `L = Σᵢ wᵢ · f(inputs)ᵢ` with fixed random weights `w` (seeded by `seed`),
/// summed in `Double`, so every output element contributes with a different weight. The analytic
/// side is `f(inputs).backward(gradient: w)`. Each numeric entry is `(L(x + h) − L(x − h)) / (x₊ − x₋)`
/// using the perturbations actually representable in `Float`.
///
/// Cost: `2 · Σ input sizes` forward evaluations, so keep shapes tiny.
public func checkGradients(
  _ inputs: [Tensor], seed: UInt64 = 0, step h: Float = 1e-2, _ f: ([Tensor]) -> Tensor
) -> GradientCheckResult {
  for x in inputs { x.grad = nil }
  let out = f(inputs)
  var rng = SplitMix64(seed: seed)
  let w = Tensor.randomNormal(out.shape, using: &rng)
  out.backward(gradient: w)
  let weights = w.scalars.map(Double.init)
  func loss() -> Double {
    let y = withGradientsDisabled { f(inputs) }
    var s = 0.0
    for (a, b) in zip(y.scalars, weights) { s += Double(a) * b }
    return s
  }
  var errors: [Double] = [], analytic: [[Float]] = [], numeric: [[Float]] = []
  for x in inputs {
    guard x.requiresGrad else {
      errors.append(0); analytic.append([]); numeric.append([])
      continue
    }
    let a = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
    var n = [Float](repeating: 0, count: x.count)
    for j in 0..<x.count {
      let original = x.scalars[j]
      let plus = original + h, minus = original - h
      x.scalars[j] = plus
      let lp = loss()
      x.scalars[j] = minus
      let lm = loss()
      x.scalars[j] = original
      n[j] = Float((lp - lm) / (Double(plus) - Double(minus)))
    }
    errors.append(relativeError(a, n))
    analytic.append(a)
    numeric.append(n)
  }
  return GradientCheckResult(errors: errors, analytic: analytic, numeric: numeric)
}

/// A random tensor that requires gradients (tiny shapes for gradient checks).
public func randomLeaf(_ shape: [Int], std: Float = 1, using rng: inout SplitMix64) -> Tensor {
  Tensor.randomNormal(shape, std: std, requiresGrad: true, using: &rng)
}
