import Testing
import VATestSupport
@testable import VATensorCore

// Every op's backward against central finite differences (TestSupport.checkGradients).
// Threshold: h = 1e-2 in Float32 gives a truncation error O(h²) ≈ 1e-4 relative for these smooth
// ops and a rounding error ≈ 6e-8 · |L| / h ≈ 1e-5; observed errors are 5e-6…1.2e-4 (division is
// the worst, its third derivative is largest). 1e-3 leaves headroom over both while a wrong
// factor, sign or index gives errors of order 0.1–1 (see checkerCatchesAWrongBackward).
let gradientTolerance = 1e-3

/// Runs a gradient check on freshly drawn leaves of the given shapes.
func gradientError(_ shapes: [[Int]], seed: UInt64 = 42, std: Float = 1, _ f: ([Tensor]) -> Tensor) -> Double {
  var rng = SplitMix64(seed: seed)
  let inputs = shapes.map { randomLeaf($0, std: std, using: &rng) }
  return checkGradients(inputs, seed: seed &+ 1, f).maxError
}

@Test(arguments: [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1, 3], [4, 1]), ([3], [])])
func arithmeticGradients(a: [Int], b: [Int]) {
  #expect(gradientError([a, b]) { $0[0] + $0[1] } < gradientTolerance)
  #expect(gradientError([a, b]) { $0[0] - $0[1] } < gradientTolerance)
  #expect(gradientError([a, b]) { $0[0] * $0[1] } < gradientTolerance)
  // Divisor kept away from zero (|b| + 1) so the finite difference stays in its linear regime.
  #expect(gradientError([a, b]) { $0[0] / ($0[1].squared() + 1) } < gradientTolerance)
  #expect(gradientError([a]) { 3 * $0[0] - 2 } < gradientTolerance)
}

@Test func unaryGradients() {
  #expect(gradientError([[2, 5]]) { $0[0].exp() } < gradientTolerance)
  #expect(gradientError([[2, 5]]) { ($0[0].squared() + 0.5).log() } < gradientTolerance)
  #expect(gradientError([[2, 5]]) { ($0[0].squared() + 0.5).sqrt() } < gradientTolerance)
  #expect(gradientError([[2, 5]]) { $0[0].tanh() } < gradientTolerance)
  #expect(gradientError([[2, 5]]) { $0[0].sigmoid() } < gradientTolerance)
  // ReLU is not differentiable at 0; random normals are never within h of 0 with this seed.
  #expect(gradientError([[2, 5]]) { relu($0[0]) } < gradientTolerance)
  #expect(gradientError([[2, 5]]) { leakyReLU($0[0], negativeSlope: 0.2) } < gradientTolerance)
  #expect(gradientError([[3, 5]]) { gelu($0[0], approximation: .exact) } < gradientTolerance)
  #expect(gradientError([[3, 5]]) { gelu($0[0], approximation: .tanh) } < gradientTolerance)
}

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func matmulGradients(ta: Bool, tb: Bool) {
  let a = ta ? [2, 4, 3] : [2, 3, 4], b = tb ? [2, 5, 4] : [2, 4, 5]
  #expect(gradientError([a, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < gradientTolerance)
  // Broadcast batches: a shared right matrix (the folded path) and a shared left matrix.
  let shared = tb ? [5, 4] : [4, 5]
  #expect(gradientError([a, shared]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < gradientTolerance)
  let left = ta ? [4, 3] : [3, 4]
  #expect(gradientError([left, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < gradientTolerance)
}

@Test func linearGradients() {
  #expect(gradientError([[2, 3, 4], [5, 4], [5]]) { linear($0[0], weight: $0[1], bias: $0[2]) } < gradientTolerance)
}

@Test func reductionGradients() {
  #expect(gradientError([[2, 3, 4]]) { $0[0].sum() } < gradientTolerance)
  #expect(gradientError([[2, 3, 4]]) { $0[0].sum(axes: [0, 2], keepDims: true) } < gradientTolerance)
  #expect(gradientError([[2, 3, 4]]) { $0[0].mean(axis: 1) } < gradientTolerance)
  #expect(gradientError([[2, 3, 4]]) { $0[0].max(axis: 1) } < gradientTolerance)
  #expect(gradientError([[2, 3, 4]]) { $0[0].max(axis: -1, keepDims: true) } < gradientTolerance)
}

@Test func shapeGradients() {
  #expect(gradientError([[2, 3, 4]]) { $0[0].reshaped([6, 4]) * $0[0].reshaped([6, 4]) } < gradientTolerance)
  #expect(gradientError([[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) } < gradientTolerance)
  #expect(gradientError([[2, 3, 4]]) { $0[0].transposed(-1, -2) } < gradientTolerance)
  #expect(gradientError([[2, 3], [2, 1], [2, 2]]) { concat($0, axis: 1) } < gradientTolerance)
  #expect(gradientError([[4, 3]]) { $0[0].sliced(axis: 0, range: 1..<3) } < gradientTolerance)
  #expect(gradientError([[4, 3]]) { $0[0].gathered(indices: [2, 0, 2], axis: 0) } < gradientTolerance)
  #expect(gradientError([[2, 6]]) { $0[0].chunked(3, axis: 1)[1] * $0[0].chunked(3, axis: 1)[2] } < gradientTolerance)
  #expect(gradientError([[3]]) { $0[0].broadcast(to: [2, 3]) } < gradientTolerance)
}

@Test func softmaxAndLayerNormGradients() {
  #expect(gradientError([[2, 3, 5]]) { softmax($0[0]) } < gradientTolerance)
  #expect(gradientError([[2, 3, 5]]) { softmax($0[0], axis: 1) } < gradientTolerance)
  #expect(gradientError([[2, 3, 5]]) { logSoftmax($0[0]) } < gradientTolerance)
  let mask = Tensor.causalMask(3)
  #expect(gradientError([[2, 3, 3]]) { softmax($0[0], mask: mask) } < gradientTolerance)
  #expect(gradientError([[3, 6], [6], [6]]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) } < gradientTolerance)
  #expect(gradientError([[3, 6]]) { layerNorm($0[0], weight: nil, bias: nil, eps: 1e-6) } < gradientTolerance)
}

@Test func gradientsAccumulateOnReusedLeaves() {
  let x = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
  (x * x + x).sum().backward()
  #expect(x.grad?.scalars == [3, 5])  // d/dx (x² + x) = 2x + 1: exact in Float
  (x * 2).sum().backward()
  #expect(x.grad?.scalars == [5, 7])  // accumulates, as PyTorch, until cleared
}

@Test func noGradModeRecordsNothing() {
  let w = Tensor.ones([3, 3], requiresGrad: true)
  let y = withGradientsDisabled { softmax(matmul(w, w) + w).sum() }
  #expect(!y.requiresGrad && !y.isRecorded)
  #expect(withGradientsDisabled { GradientMode.isEnabled } == false)
  #expect(GradientMode.isEnabled)
  let z = matmul(w, w).sum()
  #expect(z.requiresGrad && z.isRecorded)
  let plain = Tensor.ones([3, 3])
  #expect(!(plain * plain).isRecorded)  // inputs without requiresGrad never record
}

@Test func checkerCatchesAWrongBackward() {
  // x² with a backward that forgets the factor 2: the checker must report an error near 0.5.
  let error = gradientError([[4]]) { x in
    let out = Tensor(shape: x[0].shape, scalars: x[0].scalars.map { $0 * $0 })
    return out.recording([x[0]]) { g in [zip(g, x[0].scalars).map { $0 * $1 }] }
  }
  #expect(error > 0.4)
}

@Test func retainGradExposesIntermediateGradients() {
  let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
  let weights = softmax(x)
  weights.retainGrad()
  (weights * Tensor(shape: [3], scalars: [1, 0, 0])).sum().backward()
  #expect(weights.grad?.scalars == [1, 0, 0])  // ∂(w₀)/∂w: exact
  #expect(x.grad != nil)
}

@Test func linearWithoutBiasGradients() {
  #expect(gradientError([[3, 4], [2, 4]]) { linear($0[0], weight: $0[1]) } < gradientTolerance)
  #expect(gradientError([[4], [2, 4], [2]]) { linear($0[0], weight: $0[1], bias: $0[2]) } < gradientTolerance)
}
