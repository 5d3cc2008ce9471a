import Testing
import VATestSupport
@testable import VATensorCore

// Ops composed the way the ViT and the training example use them.

/// Pre-norm single-head attention plus MLP, `x` `[T, C]`, written only with TensorCore ops.
private func tinyBlock(_ p: [Tensor], mask: Tensor?) -> Tensor {
  let (x, qkvW, qkvB, projW, fc1W, fc2W, gain, shift) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
  let c = x.shape[1]
  let qkv = linear(layerNorm(x, weight: gain, bias: shift), weight: qkvW, bias: qkvB).chunked(3, axis: -1)  // 3 × [T, C]
  let scores = matmul(qkv[0], qkv[1], transposeB: true) * (1 / Float(c).squareRoot())  // [T, T]
  let attended = x + linear(matmul(softmax(scores, mask: mask), qkv[2]), weight: projW)  // [T, C]
  return attended + linear(gelu(linear(attended, weight: fc1W)), weight: fc2W)
}

@Test(arguments: [false, true])
func attentionBlockGradients(causal: Bool) {
  let (t, c) = (4, 6)
  let shapes = [[t, c], [3 * c, c], [3 * c], [c, c], [2 * c, c], [c, 2 * c], [c], [c]]
  let mask = causal ? Tensor.causalMask(t) : nil
  #expect(gradientError(shapes, std: 0.5) { tinyBlock($0, mask: mask) } < gradientTolerance)
}

@Test func tinyMLPLearnsXOR() {
  var rng = SplitMix64(seed: 3)
  let w1 = Tensor.randomNormal([8, 2], std: 1, requiresGrad: true, using: &rng), b1 = Tensor.zeros([8], requiresGrad: true)
  let w2 = Tensor.randomNormal([2, 8], std: 0.5, requiresGrad: true, using: &rng), b2 = Tensor.zeros([2], requiresGrad: true)
  let params = [w1, b1, w2, b2]
  let inputs = Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1])
  let labels = [0, 1, 1, 0]
  var adam = AdamW(weightDecay: 0)
  let schedule = LearningRateSchedule(peak: 0.05, warmupSteps: 10, totalSteps: 300)
  for step in 0..<300 {
    zeroGradients(params)
    let logits = linear(gelu(linear(inputs, weight: w1, bias: b1)), weight: w2, bias: b2)
    crossEntropy(logits: logits, labels: labels).backward()
    clipGradientNorm(params, maxNorm: 1)
    adam.step(params, learningRate: schedule(step), excludingWeightDecay: [b1, b2])
  }
  let logits = withGradientsDisabled { linear(gelu(linear(inputs, weight: w1, bias: b1)), weight: w2, bias: b2) }
  #expect(!logits.isRecorded)
  let predictions = (0..<4).map { logits[$0, 1] > logits[$0, 0] ? 1 : 0 }
  #expect(predictions == labels)
  #expect(withGradientsDisabled { crossEntropy(logits: logits, labels: labels).item } < 0.1)
}
