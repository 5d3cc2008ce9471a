import Testing
import VATestSupport
@testable import VATensorCore

// Forward values and gradients against PyTorch 2.15 (float32, CPU).
// Golden tensors: TensorGolden+Fixtures.swift, written by Scripts/reference/tensor_golden.py.
// Regenerate: python3 Scripts/reference/tensor_golden.py
//
// Tolerance: both sides compute in float32 but in different orders (PyTorch vectorises its
// reductions, GEMM and erf), so results differ by a few ULPs per accumulated term; 1e-5 relative
// (norm-wise) is ~100 ULPs of headroom for these sizes, and any formula mistake is orders larger.
let goldenTolerance = 1e-5

/// The golden tensor `name`; fails the test (and returns an empty tensor) when it is missing.
func golden(_ name: String, requiresGrad: Bool = false) -> Tensor {
  guard let entry = torchGolden[name] else {
    Issue.record("missing golden tensor \(name); regenerate with python3 Scripts/reference/tensor_golden.py")
    return Tensor.zeros([0])
  }
  return Tensor(shape: entry.shape, scalars: entry.values, requiresGrad: requiresGrad)
}

@Test func softmaxMatchesPyTorch() {
  let x = golden("softmax.x")
  #expect(relativeError(softmax(x), golden("softmax.y")) < goldenTolerance)
  #expect(relativeError(logSoftmax(x), golden("logSoftmax.y")) < goldenTolerance)
  let masked = softmax(golden("maskedSoftmax.x"), mask: Tensor.causalMask(4))
  #expect(relativeError(masked, golden("maskedSoftmax.y")) < goldenTolerance)
}

@Test func layerNormMatchesPyTorch() {
  let x = golden("layerNorm.x", requiresGrad: true)
  let w = golden("layerNorm.weight", requiresGrad: true), b = golden("layerNorm.bias", requiresGrad: true)
  let y = layerNorm(x, weight: w, bias: b, eps: 1e-5)
  #expect(relativeError(y, golden("layerNorm.y")) < goldenTolerance)
  y.backward(gradient: golden("layerNorm.upstream"))
  #expect(relativeError(x.grad!, golden("layerNorm.dx")) < goldenTolerance)
  #expect(relativeError(w.grad!, golden("layerNorm.dweight")) < goldenTolerance)
  #expect(relativeError(b.grad!, golden("layerNorm.dbias")) < goldenTolerance)
}

@Test(arguments: [(GELUApproximation.exact, "geluExact"), (.tanh, "geluTanh")])
func geluMatchesPyTorch(approximation: GELUApproximation, name: String) {
  let x = golden("gelu.x", requiresGrad: true)
  let y = gelu(x, approximation: approximation)
  #expect(relativeError(y, golden("\(name).y")) < goldenTolerance)
  y.sum().backward()
  #expect(relativeError(x.grad!, golden("\(name).dx")) < goldenTolerance)
}

/// The geometries in tensor_golden.py, in the same order.
let convGoldenCases: [(stride: Int, padding: Int, dilation: Int, groups: Int)] = [(2, 1, 1, 2), (1, 2, 2, 1)]

@Test(arguments: 0..<2)
func conv2dMatchesPyTorch(index: Int) {
  let c = convGoldenCases[index]
  let x = golden("conv\(index).x", requiresGrad: true)
  let w = golden("conv\(index).weight", requiresGrad: true), b = golden("conv\(index).bias", requiresGrad: true)
  let y = conv2d(
    x, weight: w, bias: b, stride: (c.stride, c.stride), padding: (c.padding, c.padding),
    dilation: (c.dilation, c.dilation), groups: c.groups)
  #expect(y.shape == golden("conv\(index).y").shape)
  #expect(relativeError(y, golden("conv\(index).y")) < goldenTolerance)
  y.backward(gradient: golden("conv\(index).upstream"))
  #expect(relativeError(x.grad!, golden("conv\(index).dx")) < goldenTolerance)
  #expect(relativeError(w.grad!, golden("conv\(index).dweight")) < goldenTolerance)
  #expect(relativeError(b.grad!, golden("conv\(index).dbias")) < goldenTolerance)
}

@Test func poolingMatchesPyTorch() {
  let x = golden("pool.x")
  #expect(relativeError(maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1)), golden("pool.max")) < goldenTolerance)
  #expect(relativeError(avgPool2d(x, kernel: (2, 2), stride: (2, 2)), golden("pool.avg")) < goldenTolerance)
}

@Test func crossEntropyWithLabelSmoothingMatchesPyTorch() {
  let logits = golden("crossEntropy.logits", requiresGrad: true)
  let labels = golden("crossEntropy.labels").scalars.map { Int($0) }
  let loss = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.1)
  #expect(abs(loss.item - golden("crossEntropy.loss").item) < 1e-5 * abs(golden("crossEntropy.loss").item))
  loss.backward()
  #expect(relativeError(logits.grad!, golden("crossEntropy.dlogits")) < goldenTolerance)
}

@Test func adamWStepsMatchPyTorch() {
  let p = golden("adamW.initial", requiresGrad: true)
  var adam = AdamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05)
  for step in 0..<3 {
    p.grad = golden("adamW.grad\(step)")
    adam.step([p], learningRate: 1e-2)
    // Three element-wise updates: agreement to a few ULPs of θ, far inside 1e-5.
    #expect(relativeError(p, golden("adamW.after\(step)")) < goldenTolerance, "step \(step)")
  }
}

@Test func nesterovSGDStepsMatchPyTorch() {
  let p = golden("sgd.initial", requiresGrad: true)
  var sgd = SGD(momentum: 0.9, weightDecay: 0.01, nesterov: true)
  for step in 0..<3 {
    p.grad = golden("sgd.grad\(step)")
    sgd.step([p], learningRate: 0.1)
    #expect(relativeError(p, golden("sgd.after\(step)")) < goldenTolerance, "step \(step)")
  }
}
