import Testing
@testable import VATensorCore

/// `linearGELU` (GELU in the GEMM's epilogue) against the composed `gelu(linear(...))` it replaces
/// in `Mlp`: within 1e-5 (the vectorised erf's tails differ by at most 1.5e-7), on ViT's fc1
/// shape and on edge sizes, with 1 and 2 threads; the residual sum (`linear(_:weight:bias:addingTo:)`)
/// bit for bit; and the recorded path is the composed one.
struct FusedEpilogueTests {
  static let shapes: [(rows: Int, inputs: Int, outputs: Int)] = [(1, 1, 1), (5, 7, 33), (13, 65, 97), (197, 384, 1536), (394, 96, 384)]

  @Test(arguments: shapes, [1, 2]) func linearGELUMatchesTheComposedPath(shape: (rows: Int, inputs: Int, outputs: Int), threads: Int) {
    var rng = SplitMix64(seed: UInt64(shape.rows * 31 + shape.outputs))
    let x = Tensor.randomNormal([shape.rows, shape.inputs], mean: 0, std: 1, using: &rng)
    let w = Tensor.randomNormal([shape.outputs, shape.inputs], mean: 0, std: 0.2, using: &rng)
    let b = Tensor.randomNormal([shape.outputs], mean: 0, std: 1, using: &rng)
    let previous = ComputeThreads.count
    defer { ComputeThreads.count = previous }
    ComputeThreads.count = threads
    for bias in [b, nil] {
      let fused = linearGELU(x, weight: w, bias: bias)
      let composed = gelu(linear(x, weight: w, bias: bias), approximation: .exact)
      #expect(fused.shape == composed.shape)
      let worst = zip(fused.scalars, composed.scalars).map { abs($0 - $1) }.max() ?? 0
      #expect(worst <= 1e-5, "\(shape) threads \(threads) bias \(bias != nil): largest difference \(worst)")
    }
  }

  /// The residual sum in the epilogue is the composed `residual + linear(...)` bit for bit, on
  /// products split by rows (m >= n) and by columns across 2 threads, and unsplit.
  @Test(arguments: shapes + [(600, 64, 100)], [1, 2])
  func residualEpilogueEqualsTheComposedSum(shape: (rows: Int, inputs: Int, outputs: Int), threads: Int) {
    var rng = SplitMix64(seed: UInt64(shape.rows * 17 + shape.inputs))
    let x = Tensor.randomNormal([shape.rows, shape.inputs], mean: 0, std: 1, using: &rng)
    let w = Tensor.randomNormal([shape.outputs, shape.inputs], mean: 0, std: 0.2, using: &rng)
    let b = Tensor.randomNormal([shape.outputs], mean: 0, std: 1, using: &rng)
    let r = Tensor.randomNormal([shape.rows, shape.outputs], mean: 0, std: 1, using: &rng)
    let previous = ComputeThreads.count
    defer { ComputeThreads.count = previous }
    ComputeThreads.count = threads
    for bias in [b, nil] {
      let fused = linear(x, weight: w, bias: bias, addingTo: r)
      let composed = r + linear(x, weight: w, bias: bias)
      #expect(fused.shape == composed.shape)
      #expect(fused.scalars == composed.scalars, "\(shape) threads \(threads) bias \(bias != nil)")
    }
  }

  /// With gradients recorded the fused pass is not taken: the composed path runs, so the result
  /// and the gradients are the composed ones exactly.
  @Test func recordedInputsTakeTheComposedPath() {
    var rng = SplitMix64(seed: 3)
    let x = Tensor.randomNormal([7, 16], mean: 0, std: 1, using: &rng)
    let w = Tensor.randomNormal([24, 16], mean: 0, std: 0.3, using: &rng)
    w.requiresGrad = true
    let fused = linearGELU(x, weight: w, bias: nil)
    #expect(fused.requiresGrad)
    #expect(fused.scalars == gelu(linear(x, weight: w), approximation: .exact).scalars)
  }
}
