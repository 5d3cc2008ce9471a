import Foundation

extension Tensor {
  /// Samples from a normal distribution `N(mean, std²)`.
  ///
  /// The generator is passed in so results are reproducible and there is no shared global state.
  public static func randomNormal<G: RandomNumberGenerator>(
    _ shape: [Int], mean: Float = 0, std: Float = 1, requiresGrad: Bool = false, using rng: inout G
  ) -> Tensor {
    var split = SplitMix64(seed: rng.next())
    let n = shape.reduce(1, *)
    let values = makeBuffer(n) { out in
      for i in 0..<n { out[i] = mean + std * Float(split.nextStandardNormal()) }
    }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
  }

  /// Samples `N(mean, std²)` restricted to `[a, b]` by rejection, as `torch.nn.init.trunc_normal_`.
  ///
  /// As in PyTorch, `a` and `b` are absolute bounds, not multiples of `std` (timm's ViT init
  /// `trunc_normal_(std=.02)` keeps the default `[-2, 2]`, which then almost never truncates).
  /// - Precondition: `a < b` and the interval has non-negligible mass (else rejection would spin).
  public static func randomTruncatedNormal<G: RandomNumberGenerator>(
    _ shape: [Int], mean: Float = 0, std: Float = 1, a: Float = -2, b: Float = 2,
    requiresGrad: Bool = false, using rng: inout G
  ) -> Tensor {
    precondition(a < b, "truncation bounds need a < b, got a = \(a), b = \(b)")
    precondition(std > 0, "std must be positive, got \(std)")
    let lo = (Double(a) - Double(mean)) / Double(std), hi = (Double(b) - Double(mean)) / Double(std)
    let mass = 0.5 * (erf(hi / 2.0.squareRoot()) - erf(lo / 2.0.squareRoot()))
    precondition(mass > 1e-4, "[\(a), \(b)] holds only \(mass) of N(\(mean), \(std)²); rejection would be too slow")
    var split = SplitMix64(seed: rng.next())
    let n = shape.reduce(1, *)
    let values = makeBuffer(n) { out in
      for i in 0..<n {
        var z = split.nextStandardNormal()
        while z < lo || z > hi { z = split.nextStandardNormal() }
        out[i] = mean + std * Float(z)
      }
    }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
  }

  /// Samples uniformly from `[low, high)`.
  public static func randomUniform<G: RandomNumberGenerator>(
    _ shape: [Int], low: Float = 0, high: Float = 1, requiresGrad: Bool = false, using rng: inout G
  ) -> Tensor {
    precondition(low <= high, "randomUniform needs low <= high, got \(low), \(high)")
    var split = SplitMix64(seed: rng.next())
    let n = shape.reduce(1, *)
    let values = makeBuffer(n) { out in
      for i in 0..<n { out[i] = low + (high - low) * split.nextUnitFloat() }
    }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
  }
}
