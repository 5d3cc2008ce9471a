import Foundation
import Testing
import VATestSupport
@testable import VATensorCore

// The Swift fast paths (exp for tanh-GELU) against scalar libm; the C kernels behind softmax
// and exact GELU are tested in VectorExpTests.

@Test func vectorExpMatchesLibm() {
  var worst: Float = 0
  for i in stride(from: -8700, through: 8800, by: 7) {
    let x = Float(i) / 100
    let v = fastExp(x)
    worst = Swift.max(worst, abs(v - Foundation.exp(x)) / Foundation.exp(x))
  }
  #expect(worst < 5e-7)  // Cephes polynomial ≈ 1e-7 plus the 2ⁿ scaling: a few ULPs
  let edge: [Float] = [-.infinity, -100, -87.4, 0, 89, .infinity, -0.0].map(fastExp)
  #expect(edge == [0, 0, 0, 1, .infinity, .infinity, 1])
  #expect(fastExp(.nan).isNaN)
}

@Test func vectorTanhMatchesLibm() {
  var tanhError: Float = 0
  for i in -1000...1000 {
    let x = Float(i) / 100
    tanhError = Swift.max(tanhError, abs(fastTanh(x) - Foundation.tanh(x)))
  }
  // 1 − 2/(e²ˣ + 1) loses relative precision near 0 but stays within ~2 ULPs of 1 absolutely.
  #expect(tanhError < 4e-7)
}

@Test(arguments: [GELUApproximation.exact, .tanh])
func vectorisedGELUMatchesScalarReference(approximation: GELUApproximation) {
  var rng = SplitMix64(seed: 12)
  // 70 001 elements: more than one parallel chunk and a ragged SIMD tail.
  let x = Tensor.randomNormal([70_001], std: 3, using: &rng)
  #expect(relativeError(gelu(x, approximation: approximation), geluReference(x, approximation: approximation)) < 1e-6)
}

@Test func parallelSoftmaxMatchesReference() {
  var rng = SplitMix64(seed: 13)
  let x = Tensor.randomNormal([40, 101, 37], std: 4, using: &rng)  // rows split across workers
  #expect(relativeError(softmax(x), softmaxReference(x)) < 1e-6)
}

/// LayerNorm's lane reductions against Double accumulation, for lengths around the 16-lane
/// boundary (the scalar tail) and ViT widths.
@Test(arguments: [1, 15, 16, 17, 192, 385])
func laneReductionsMatchDoubleSums(count: Int) {
  var rng = SplitMix64(seed: UInt64(count))
  let x = Tensor.randomNormal([count], mean: 3, std: 2, using: &rng).scalars
  let mean = x.reduce(0.0) { $0 + Double($1) } / Double(count)
  let deviations = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
  x.withUnsafeBufferPointer { p in
    // Float sums of `count` terms of magnitude ~5: a few ULPs of the total.
    #expect(abs(Double(laneSum(p.baseAddress!, count: count)) - mean * Double(count)) <= 1e-5 * Double(count) * 5)
    let lane = Double(laneSquaredDeviations(p.baseAddress!, count: count, mean: Float(mean)))
    #expect(abs(lane - deviations) <= 1e-5 * max(deviations, 1))
  }
}
