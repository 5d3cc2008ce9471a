import VATensorCore

/// Result of `checkGradientConvergence`: the relative error of central differences along one
/// random direction, at each step size.
public struct GradientConvergence: CustomStringConvertible {
  /// The step sizes, largest first.
  public var steps: [Float]
  /// `|ΔL − ∇L·Δθ| / |∇L·Δθ|` at each step.
  public var errors: [Double]
  /// `errors[i] / errors[i + 1]`: about `(steps[i] / steps[i + 1])²` when the analytic
  /// gradient is right and truncation dominates rounding.
  public var ratios: [Double] { zip(errors, errors.dropFirst()).map { $0 / $1 } }
  public var description: String { "steps \(steps), relative errors \(errors), ratios \(ratios)" }

  /// True when every ratio is within `tolerance` (relative) of the ratio of squared steps.
  public func shrinksQuadratically(tolerance: Double = 0.25) -> Bool {
    zip(ratios, zip(steps, steps.dropFirst())).allSatisfy { ratio, pair in
      let expected = Double(pair.0 / pair.1) * Double(pair.0 / pair.1)
      return abs(ratio / expected - 1) <= tolerance
    }
  }
}

/// Checks a backward by the order of its finite-difference error rather than by its size.
///
/// Along a random direction `d` over every input, the central difference
/// `L(θ + h·d) − L(θ − h·d)` equals `∇L·Δθ` (with `Δθ` the perturbation actually made in
/// `Float`) up to `φ‴·h³/3`: its relative error shrinks as h². A backward that is wrong by
/// any fixed fraction (a 1% slip) leaves an error that does not shrink, so the ratio of the
/// errors at two steps falls from 4 (halving h) towards 1. `L = Σᵢ wᵢ·f(θ)ᵢ` with fixed
/// random weights, summed in `Double`. Steps must be large enough that truncation dominates
/// the forward's Float rounding (relative errors well above 1e-5), and the function smooth
/// over `±h·d` (no ReLU or max-pool kink crossed).
///
/// Cost: one backward and `2 · steps.count` forward evaluations.
public func checkGradientConvergence(
  _ inputs: [Tensor], seed: UInt64 = 0, steps: [Float], _ f: ([Tensor]) -> Tensor
) -> GradientConvergence {
  for x in inputs { x.grad = nil }
  let out = f(inputs)
  var rng = SplitMix64(seed: seed)
  let w = Tensor.randomNormal(out.shape, using: &rng)
  out.backward(gradient: w)
  let weights = w.scalars.map(Double.init)
  let gradients = inputs.map { $0.grad?.scalars ?? [Float](repeating: 0, count: $0.count) }
  let directions = inputs.map { Tensor.randomNormal($0.shape, using: &rng).scalars }
  let originals = inputs.map(\.scalars)
  func loss() -> Double {
    let y = withGradientsDisabled { f(inputs) }
    return zip(y.scalars, weights).reduce(0.0) { $0 + Double($1.0) * $1.1 }
  }
  var errors: [Double] = []
  for h in steps {
    var predicted = 0.0
    for (i, x) in inputs.enumerated() {
      let plus = zip(originals[i], directions[i]).map { $0 + h * $1 }
      let minus = zip(originals[i], directions[i]).map { $0 - h * $1 }
      for j in 0..<x.count { predicted += Double(gradients[i][j]) * (Double(plus[j]) - Double(minus[j])) }
    }
    for (i, x) in inputs.enumerated() { x.scalars = zip(originals[i], directions[i]).map { $0 + h * $1 } }
    let lp = loss()
    for (i, x) in inputs.enumerated() { x.scalars = zip(originals[i], directions[i]).map { $0 - h * $1 } }
    let lm = loss()
    for (i, x) in inputs.enumerated() { x.scalars = originals[i] }
    errors.append(abs((lp - lm) - predicted) / max(abs(predicted), 1e-300))
  }
  return GradientConvergence(steps: steps, errors: errors)
}
