import Testing
import VATestSupport
@testable import VATensorCore

@Test(arguments: [UInt64(0), 1, 2])
func softmaxRowsSumToOneAndMatchReference(seed: UInt64) {
  var rng = SplitMix64(seed: seed)
  let x = Tensor.randomNormal([3, 4, 7], std: 5, using: &rng)
  let y = softmax(x)
  // Fused Float kernel vs two-pass Double reference: 1e-6 relative is a few ULPs.
  #expect(relativeError(y, softmaxReference(x)) < 1e-6)
  for r in 0..<12 {
    let s = y.scalars[(r * 7)..<(r * 7 + 7)].reduce(0, +)
    #expect(abs(s - 1) < 1e-6)  // seven terms each rounded once
  }
}

@Test func softmaxIsStableForHugeLogitsAndMasksExactly() {
  let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -5, 0, 5])
  let y = softmax(x, mask: Tensor.attentionMask(allowed: [true, false, true], shape: [3]))
  #expect(y.scalars.allSatisfy { $0.isFinite })
  #expect(y.scalars[1] == 0 && y.scalars[4] == 0)  // masked: exactly zero weight
  let causal = softmax(Tensor.zeros([3, 3]), mask: Tensor.causalMask(3))
  let third: Float = 1.0 / 3.0
  let expectedCausal: [Float] = [1, 0, 0, 0.5, 0.5, 0, third, third, third]
  #expect(isClose(causal.scalars, expectedCausal, rtol: 1e-6, atol: 0))
  let allMasked = softmax(Tensor.zeros([1, 2]), mask: Tensor.attentionMask(allowed: [false, false], shape: [2]))
  #expect(allMasked.scalars == [0, 0])
}

@Test func logSoftmaxIsLogOfSoftmaxAndSoftmaxWorksOnOtherAxes() {
  var rng = SplitMix64(seed: 9)
  let x = Tensor.randomNormal([4, 5], using: &rng)
  #expect(relativeError(logSoftmax(x).exp(), softmax(x)) < 1e-6)
  #expect(relativeError(softmax(x, axis: 0), softmax(x.transposed(0, 1)).transposed(0, 1)) < 1e-7)
}

@Test func layerNormRowsHaveZeroMeanUnitVariance() {
  var rng = SplitMix64(seed: 4)
  let x = Tensor.randomNormal([5, 16], mean: 3, std: 2, using: &rng)
  let y = layerNorm(x, weight: nil, bias: nil, eps: 0)
  for r in 0..<5 {
    let row = y.scalars[(r * 16)..<(r * 16 + 16)].map(Double.init)
    let mean = row.reduce(0, +) / 16
    let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
    #expect(abs(mean) < 1e-6 && abs(variance - 1) < 1e-5)  // Float rounding over 16 terms
  }
  let w = Tensor(repeating: 2, shape: [16]), b = Tensor(repeating: -1, shape: [16])
  #expect(relativeError(layerNorm(x, weight: w, bias: b), y * 2 - 1) < 1e-4)  // eps 1e-5 vs 0
}
