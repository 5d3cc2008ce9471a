import CVAKernels
import Testing
import VATestSupport
@testable import VATensorCore

/// A two-tensor model for the parameter convention.
private struct TinyModel: ParameterContainer {
  var weight = Tensor.ones([2, 3], requiresGrad: true)
  var bias = Tensor.zeros([2], requiresGrad: true)
  var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

@Test func parameterContainerEnumeratesAndPrefixes() {
  let model = TinyModel()
  #expect(model.parameterCount == 8)
  #expect(prefixed("head", model).map(\.name) == ["head.weight", "head.bias"])
  linear(Tensor.ones([1, 3]), weight: model.weight, bias: model.bias).sum().backward()
  #expect(model.weight.grad != nil)
  model.zeroGradients()
  #expect(model.parameters.allSatisfy { $0.grad == nil })
}

@Test func sgdWithMomentumFollowsThePyTorchRecurrence() {
  // θ = 1, constant gradient 1 (loss = θ), lr 0.1, μ 0.9: b₁ = 1, b₂ = 1.9, so θ = 1 − 0.1 − 0.19.
  let theta = Tensor(shape: [1], scalars: [1], requiresGrad: true)
  var sgd = SGD(momentum: 0.9)
  for _ in 0..<2 {
    zeroGradients([theta])
    theta.sum().backward()
    sgd.step([theta], learningRate: 0.1)
  }
  #expect(abs(theta.item - 0.71) < 1e-6)  // two Float multiply-adds: within a few ULPs
}

@Test func optimisersMinimiseAQuadratic() {
  var rng = SplitMix64(seed: 1)
  let target = Tensor.randomNormal([5], using: &rng)
  for useAdam in [false, true] {
    let x = Tensor.zeros([5], requiresGrad: true)
    var sgd = SGD(momentum: 0.9, nesterov: true)
    var adam = AdamW(weightDecay: 0)
    for _ in 0..<300 {
      zeroGradients([x])
      meanSquaredError(x, target).backward()
      if useAdam { adam.step([x], learningRate: 0.05) } else { sgd.step([x], learningRate: 0.5) }
    }
    #expect(relativeError(x, target) < 1e-2, "useAdam \(useAdam)")  // converged to 1%
  }
}

@Test func adamWFirstStepMovesEachCoordinateByTheLearningRate() {
  // After one step m̂ = g and v̂ = g², so the update is lr · sign(g) (up to ε), plus decay θ·lr·λ.
  let x = Tensor(shape: [3], scalars: [1, -2, 3], requiresGrad: true)
  x.grad = Tensor(shape: [3], scalars: [0.5, -4, 1e-3])
  var adam = AdamW(weightDecay: 0.1)
  adam.step([x], learningRate: 0.01)
  let expected: [Float] = [1 * 0.999 - 0.01, -2 * 0.999 + 0.01, 3 * 0.999 - 0.01]
  #expect(isClose(x.scalars, expected, rtol: 1e-5, atol: 1e-6))
  #expect(adam.stepCount(of: x) == 1)
}

@Test func gradientClippingScalesToTheMaximumNorm() {
  let a = Tensor.zeros([2], requiresGrad: true), b = Tensor.zeros([1], requiresGrad: true)
  a.grad = Tensor(shape: [2], scalars: [3, 0])
  b.grad = Tensor(shape: [1], scalars: [4])
  #expect(clipGradientNorm([a, b], maxNorm: 1) == 5)
  #expect(isClose(a.grad!.scalars + b.grad!.scalars, [0.6, 0, 0.8], rtol: 1e-5))
  #expect(clipGradientNorm([a, b], maxNorm: 10) < 1.0001)  // already small: unchanged
}

@Test func warmupCosineSchedule() {
  let s = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minimum: 0.1)
  #expect(s(0) == 0 && s(5) == 0.5 && s(10) == 1)
  #expect(abs(s(60) - 0.55) < 1e-6)  // halfway: min + (peak − min)/2
  #expect(abs(s(110) - 0.1) < 1e-6 && abs(s(500) - 0.1) < 1e-6)
  let linearDecay = LearningRateSchedule(peak: 2, totalSteps: 4, decay: .linear)
  #expect([0, 1, 2, 3, 4].map { linearDecay($0) } == [2, 1.5, 1, 0.5, 0])
}

/// The vectorised AdamW update (CVAKernels' cva_adamw_step) at each level against the scalar
/// loop it replaced, written out here: the same operations in the same order, so the same bits.
/// 37 elements leave a tail after the 16- and 8-wide loops. Levels this CPU lacks are skipped.
@Test func adamWPortableStepMatchesTheScalarLoop() { adamWStepMatchesTheScalarLoop(level: 0) }
@Test(.enabled(if: KernelLevel.avx2, "AVX2 AdamW skipped: this CPU (or CVA_SGEMM_KERNEL) has no AVX2"))
func adamWAVX2StepMatchesTheScalarLoop() { adamWStepMatchesTheScalarLoop(level: 1) }
@Test(.enabled(if: KernelLevel.avx512, "AVX-512 AdamW skipped: this CPU (or CVA_SGEMM_KERNEL) has no AVX-512"))
func adamWAVX512StepMatchesTheScalarLoop() { adamWStepMatchesTheScalarLoop(level: 2) }

private func adamWStepMatchesTheScalarLoop(level: Int32) {
  var rng = SplitMix64(seed: 21)
  let n = 37
  let g = (0..<n).map { _ in Float(rng.nextStandardNormal()) }
  var theta = (0..<n).map { _ in Float(rng.nextStandardNormal()) }, m = g.map { $0 * 0.3 }, v = g.map { $0 * $0 * 0.2 }
  var (theta2, m2, v2) = (theta, m, v)
  let (b1, b2, eps, lr, decay, c1, c2): (Float, Float, Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 1e-3, 1 - 1e-3 * 0.05, 0.271, 0.00299)
  var scalars = cva_adamw_scalars(decay: decay, beta1: b1, one_minus_beta1: 1 - b1, beta2: b2, one_minus_beta2: 1 - b2, c1: c1, c2: c2, lr: lr, epsilon: eps)
  #expect(cva_adamw_step_at_level(level, &theta, g, &m, &v, n, &scalars) == 1)
  for i in 0..<n {
    theta2[i] *= decay
    m2[i] = b1 * m2[i] + (1 - b1) * g[i]
    v2[i] = b2 * v2[i] + (1 - b2) * g[i] * g[i]
    theta2[i] -= lr * (m2[i] / c1) / ((v2[i] / c2).squareRoot() + eps)
  }
  #expect(theta == theta2 && m == m2 && v == v2, "level \(level)")
}
