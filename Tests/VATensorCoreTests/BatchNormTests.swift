import Testing
import VATestSupport
@testable import VATensorCore

// batchNorm2d: backward against finite differences in both modes, forward, backward and the
// running-statistics update against torch.nn.BatchNorm2d.

@Test(arguments: [[3, 2, 3, 2], [4, 3]])
func batchNormTrainingGradients(shape: [Int]) {
  let c = shape[1]
  // The batch statistics depend on x, so this checks the full (non-diagonal) training backward.
  let error = gradientError([shape, [c], [c]]) {
    batchNorm2d($0[0], weight: $0[1], bias: $0[2], runningMean: nil, runningVariance: nil, mode: .training(momentum: 0.1))
  }
  #expect(error < gradientTolerance)
  let noAffine = gradientError([shape]) {
    batchNorm2d($0[0], weight: nil, bias: nil, runningMean: nil, runningVariance: nil, mode: .training(momentum: 0.1))
  }
  #expect(noAffine < gradientTolerance)
}

@Test func batchNormInferenceGradients() {
  let mean = Tensor(shape: [3], scalars: [0.5, -1, 0]), variance = Tensor(shape: [3], scalars: [2, 0.5, 1])
  let error = gradientError([[2, 3, 2, 2], [3], [3]]) {
    batchNorm2d($0[0], weight: $0[1], bias: $0[2], runningMean: mean, runningVariance: variance, mode: .inference)
  }
  #expect(error < gradientTolerance)
  #expect(mean.scalars == [0.5, -1, 0] && variance.scalars == [2, 0.5, 1])  // inference leaves them alone
}

@Test func batchNormNormalisesEachChannel() {
  var rng = SplitMix64(seed: 5)
  let x = Tensor.randomNormal([8, 2, 4, 4], mean: 3, std: 2, using: &rng)
  let y = batchNorm2d(x, weight: nil, bias: nil, runningMean: nil, runningVariance: nil, mode: .training(momentum: 0.1))
  for ch in 0..<2 {
    var values: [Float] = []
    for img in 0..<8 {
      let start = (img * 2 + ch) * 16
      values += y.scalars[start..<(start + 16)]
    }
    let count = Float(values.count)
    let mean = values.reduce(0, +) / count
    var variance: Float = 0
    for v in values { variance += (v - mean) * (v - mean) }
    variance /= count
    // Float32 sums over 128 values: 1e-5 absolute on the mean, 1e-4 on the variance (ε = 1e-5
    // alone moves it by 1e-5 / σ² ≈ 2.5e-6).
    #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-4, "channel \(ch): mean \(mean), variance \(variance)")
  }
}

/// The golden tensor `name` from the batch-norm table.
private func bnGolden(_ name: String, requiresGrad: Bool = false) -> Tensor {
  guard let entry = batchNormGolden[name] else {
    Issue.record("missing golden tensor \(name); regenerate with python3 Scripts/reference/batchnorm_golden.py")
    return Tensor.zeros([0])
  }
  return Tensor(shape: entry.shape, scalars: entry.values, requiresGrad: requiresGrad)
}

@Test func batchNormMatchesPyTorch() {
  let x = bnGolden("bn.train.x", requiresGrad: true)
  let w = bnGolden("bn.weight", requiresGrad: true), b = bnGolden("bn.bias", requiresGrad: true)
  let mean = bnGolden("bn.runningMean0"), variance = bnGolden("bn.runningVar0")
  let upstream = bnGolden("bn.train.upstream")

  let y = batchNorm2d(x, weight: w, bias: b, runningMean: mean, runningVariance: variance, mode: .training(momentum: 0.1))
  #expect(relativeError(y, bnGolden("bn.train.y")) < goldenTolerance)
  y.backward(gradient: upstream)
  #expect(relativeError(x.grad!, bnGolden("bn.train.dx")) < goldenTolerance)
  #expect(relativeError(w.grad!, bnGolden("bn.train.dweight")) < goldenTolerance)
  #expect(relativeError(b.grad!, bnGolden("bn.train.dbias")) < goldenTolerance)
  // Running statistics: momentum 0.1 and the unbiased variance, as PyTorch.
  #expect(relativeError(mean, bnGolden("bn.runningMean1")) < goldenTolerance)
  #expect(relativeError(variance, bnGolden("bn.runningVar1")) < goldenTolerance)

  for t in [x, w, b] { t.grad = nil }
  let z = batchNorm2d(x, weight: w, bias: b, runningMean: mean, runningVariance: variance, mode: .inference)
  #expect(relativeError(z, bnGolden("bn.eval.y")) < goldenTolerance)
  z.backward(gradient: upstream)
  #expect(relativeError(x.grad!, bnGolden("bn.eval.dx")) < goldenTolerance)
  #expect(relativeError(w.grad!, bnGolden("bn.eval.dweight")) < goldenTolerance)
  #expect(relativeError(b.grad!, bnGolden("bn.eval.dbias")) < goldenTolerance)
}
