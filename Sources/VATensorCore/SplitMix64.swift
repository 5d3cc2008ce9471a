import Foundation

/// A small, fast, seedable 64-bit generator (Steele, Lea & Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014). Pass it `inout`; there is no global generator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  /// The current internal state; the next output is derived from `state + 0x9E3779B97F4A7C15`.
  public var state: UInt64

  /// Creates a generator whose sequence is fully determined by `seed`.
  public init(seed: UInt64) { state = seed }

  /// Next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform `Float` in `[0, 1)` from the top 24 bits (exactly representable).
  public mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// Standard normal sample by the Box–Muller transform, computed in `Double`.
  public mutating func nextStandardNormal() -> Double {
    // u1 in (0, 1] so log(u1) is finite.
    let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
    let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
  }
}
