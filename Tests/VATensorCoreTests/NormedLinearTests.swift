import Testing
import VATestSupport
@testable import VATensorCore

/// `linear(layerNormed:...)` (the layer norm applied while the GEMM packs its input) against the
/// composed `linear(layerNorm(x))` and `linearGELU(layerNorm(x))` it replaces in a transformer
/// block: on edge sizes and ViT-S's fc1, with and without the norm's weight and bias, with 1 and
/// 2 threads (products split by rows and by columns); the row statistics against Double sums;
/// and under autograd, the composed path's values and gradients.
struct NormedLinearTests {
  static let shapes: [(rows: Int, inputs: Int, outputs: Int)] = [
    (1, 1, 1), (1, 7, 33), (5, 7, 3), (13, 65, 97), (197, 384, 1536), (600, 64, 100),
  ]

  /// Relative to max(1, |reference|): the absolute error near zero, the relative one elsewhere.
  static func worstError(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0 }

  @Test(arguments: shapes, [1, 2]) func fusedMatchesTheComposedPath(shape: (rows: Int, inputs: Int, outputs: Int), threads: Int) {
    var rng = SplitMix64(seed: UInt64(shape.rows * 31 + shape.outputs))
    let x = Tensor.randomNormal([shape.rows, shape.inputs], mean: 0.5, std: 2, using: &rng)
    let gamma = Tensor.randomNormal([shape.inputs], mean: 1, std: 0.3, using: &rng)
    let beta = Tensor.randomNormal([shape.inputs], mean: 0, std: 0.5, using: &rng)
    let w = Tensor.randomNormal([shape.outputs, shape.inputs], mean: 0, std: 0.2, using: &rng)
    let b = Tensor.randomNormal([shape.outputs], mean: 0, std: 1, using: &rng)
    let previous = ComputeThreads.count
    defer { ComputeThreads.count = previous }
    ComputeThreads.count = threads
    for (normWeight, normBias) in [(gamma, beta), (gamma, nil), (nil, nil)] as [(Tensor?, Tensor?)] {
      let normalized = layerNorm(x, weight: normWeight, bias: normBias, eps: 1e-6)
      for activation in [LinearActivation.none, .gelu] {
        let fused = linear(layerNormed: x, normWeight: normWeight, normBias: normBias, eps: 1e-6, weight: w, bias: b, activation: activation)
        let composed = activation == .gelu ? gelu(linear(normalized, weight: w, bias: b), approximation: .exact) : linear(normalized, weight: w, bias: b)
        #expect(fused.shape == composed.shape)
        let worst = Self.worstError(fused.scalars, composed.scalars)
        // The normalised values are the composed ones bit for bit and the GEMM is the same, so
        // only GELU's vectorised erf may differ (1.5e-7); 1e-5 is the issue's bound.
        #expect(worst <= 1e-5, "\(shape) threads \(threads) gamma \(normWeight != nil) beta \(normBias != nil) \(activation): error \(worst)")
      }
    }
  }

  /// A batch `[B, T, C]` is `B·T` rows, and a linear layer without a bias.
  @Test func batchedInputWithoutBias() {
    var rng = SplitMix64(seed: 12)
    let x = Tensor.randomNormal([2, 5, 24], mean: -1, std: 3, using: &rng)
    let gamma = Tensor.randomNormal([24], mean: 1, std: 0.3, using: &rng), beta = Tensor.randomNormal([24], using: &rng)
    let w = Tensor.randomNormal([40, 24], mean: 0, std: 0.2, using: &rng)
    let fused = linear(layerNormed: x, normWeight: gamma, normBias: beta, eps: 1e-5, weight: w, activation: .gelu)
    let composed = gelu(linear(layerNorm(x, weight: gamma, bias: beta, eps: 1e-5), weight: w), approximation: .exact)
    #expect(fused.shape == [2, 5, 40])
    let worst = Self.worstError(fused.scalars, composed.scalars)
    #expect(worst <= 1e-5, "error \(worst)")
  }

  /// The row statistics are `layerNorm`'s: against a Double mean and biased variance, on rows
  /// under and over the 16-lane width and rows far from zero mean.
  @Test(arguments: [1, 7, 16, 33, 384]) func rowStatisticsMatchDoubleSums(channels: Int) {
    var rng = SplitMix64(seed: UInt64(channels))
    let rows = 9
    let x = Tensor.randomNormal([rows, channels], mean: 3, std: 0.5, using: &rng)
    let (mean, rstd) = layerNormStatistics(x, rows: rows, channels: channels, eps: 1e-6)
    for r in 0..<rows {
      let row = x.scalars[(r * channels)..<((r + 1) * channels)].map(Double.init)
      let mu = row.reduce(0, +) / Double(channels)
      let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(channels)
      let expected = 1 / (variance + 1e-6).squareRoot()
      // Float sums of at most 384 values near 3: a few ulps of the mean; rstd's relative error
      // follows the variance's, whose terms are already mean-subtracted.
      #expect(abs(Double(mean[r]) - mu) <= 1e-5 * max(1, abs(mu)), "row \(r): mean \(mean[r]) vs \(mu)")
      #expect(abs(Double(rstd[r]) - expected) <= 1e-4 * expected, "row \(r): rstd \(rstd[r]) vs \(expected)")
    }
  }

  /// With gradients recorded the fused pass is not taken: the result and every gradient (input,
  /// norm weight and bias, linear weight and bias) are the composed path's.
  @Test(arguments: [LinearActivation.none, .gelu]) func recordedInputsTakeTheComposedPath(activation: LinearActivation) {
    func leaves(_ seed: UInt64) -> [Tensor] {
      var rng = SplitMix64(seed: seed)
      return [
        randomLeaf([7, 16], using: &rng), randomLeaf([16], using: &rng), randomLeaf([16], using: &rng),
        randomLeaf([24, 16], std: 0.3, using: &rng), randomLeaf([24], using: &rng),
      ]
    }
    let fusedLeaves = leaves(5), composedLeaves = leaves(5)
    let fused = linear(
      layerNormed: fusedLeaves[0], normWeight: fusedLeaves[1], normBias: fusedLeaves[2], eps: 1e-6, weight: fusedLeaves[3], bias: fusedLeaves[4],
      activation: activation)
    let normalized = layerNorm(composedLeaves[0], weight: composedLeaves[1], bias: composedLeaves[2], eps: 1e-6)
    let projected = linear(normalized, weight: composedLeaves[3], bias: composedLeaves[4])
    let composed = activation == .gelu ? gelu(projected, approximation: .exact) : projected
    #expect(fused.requiresGrad)
    #expect(Self.worstError(fused.scalars, composed.scalars) <= 1e-6)
    var rng = SplitMix64(seed: 8)
    let upstream = Tensor.randomNormal(fused.shape, using: &rng)
    fused.backward(gradient: upstream)
    composed.backward(gradient: upstream)
    for (index, (f, c)) in zip(fusedLeaves, composedLeaves).enumerated() {
      guard let fg = f.grad, let cg = c.grad else {
        Issue.record("input \(index): a gradient is missing (fused \(f.grad != nil), composed \(c.grad != nil))")
        continue
      }
      #expect(Self.worstError(fg.scalars, cg.scalars) <= 1e-6, "input \(index) \(activation): gradient error")
    }
  }

  /// The recorded path's gradients are right, not only equal to the composed ones: central
  /// differences through the whole normalised linear layer (the norm's backward included).
  @Test func recordedGradientsMatchFiniteDifferences() {
    var rng = SplitMix64(seed: 17)
    let inputs = [
      randomLeaf([3, 6], using: &rng), randomLeaf([6], using: &rng), randomLeaf([6], using: &rng),
      randomLeaf([4, 6], std: 0.5, using: &rng), randomLeaf([4], using: &rng),
    ]
    let result = checkGradients(inputs, step: 1e-2) { t in
      linear(layerNormed: t[0], normWeight: t[1], normBias: t[2], eps: 1e-5, weight: t[3], bias: t[4], activation: .gelu)
    }
    // Float forward passes and a step of 1e-2: about 1e-3 relative (the repository's bound).
    #expect(result.maxError < 1e-2, "\(result)")
  }
}
