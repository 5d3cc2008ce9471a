import Foundation
import Testing
import VATestSupport
@testable import VATensorCore

/// One convolution configuration: input `[n, c, h, w]`, `o` output channels, kernel `k × k`.
struct ConvCase: Sendable, CustomStringConvertible {
  var n = 1, c = 2, h = 5, w = 5, o = 3, k = 3, stride = 1, padding = 0, dilation = 1, groups = 1
  var description: String { "x[\(n),\(c),\(h),\(w)] o\(o) k\(k) s\(stride) p\(padding) d\(dilation) g\(groups)" }
}

let convCases: [ConvCase] = [
  ConvCase(),
  ConvCase(n: 2, c: 3, h: 6, w: 7, o: 4, k: 3, stride: 2, padding: 1),
  ConvCase(c: 2, h: 7, w: 6, o: 2, k: 3, padding: 2, dilation: 2),
  ConvCase(n: 2, c: 4, h: 5, w: 5, o: 6, k: 3, stride: 1, padding: 1, groups: 2),
  ConvCase(c: 4, h: 4, w: 4, o: 4, k: 1, groups: 4),  // depthwise 1x1
  ConvCase(c: 3, h: 8, w: 8, o: 5, k: 4, stride: 4),  // patch embedding
  ConvCase(n: 3, c: 2, h: 5, w: 9, o: 2, k: 3, stride: 3, padding: 3),  // rows and columns of pure padding, odd batch
]

private func convInputs(_ t: ConvCase, rng: inout SplitMix64) -> (x: Tensor, w: Tensor, b: Tensor) {
  (
    randomLeaf([t.n, t.c, t.h, t.w], using: &rng), randomLeaf([t.o, t.c / t.groups, t.k, t.k], using: &rng),
    randomLeaf([t.o], using: &rng)
  )
}

@Test(arguments: convCases)
func im2colConvolutionMatchesDirectLoops(t: ConvCase) {
  var rng = SplitMix64(seed: 11)
  let (x, w, b) = convInputs(t, rng: &rng)
  let s = (t.stride, t.stride), p = (t.padding, t.padding), d = (t.dilation, t.dilation)
  let fast = conv2d(x, weight: w, bias: b, stride: s, padding: p, dilation: d, groups: t.groups)
  let slow = conv2dReference(x, weight: w, bias: b, stride: s, padding: p, dilation: d, groups: t.groups)
  #expect(fast.shape == slow.shape)
  #expect(relativeError(fast, slow) < 1e-5)  // Float GEMM vs Double loops over <= 48 taps
}

@Test(arguments: convCases)
func convolutionGradients(t: ConvCase) {
  let s = (t.stride, t.stride), p = (t.padding, t.padding), d = (t.dilation, t.dilation)
  let shapes = [[t.n, t.c, t.h, t.w], [t.o, t.c / t.groups, t.k, t.k], [t.o]]
  let error = gradientError(shapes) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p, dilation: d, groups: t.groups) }
  #expect(error < gradientTolerance)
}

@Test func poolingForwardAndGradients() {
  let x = Tensor.arange(0..<16).reshaped([1, 1, 4, 4])
  #expect(maxPool2d(x, kernel: (2, 2)).scalars == [5, 7, 13, 15])
  #expect(avgPool2d(x, kernel: (2, 2)).scalars == [2.5, 4.5, 10.5, 12.5])
  #expect(maxPool2d(x, kernel: (3, 3), stride: (1, 1), padding: (1, 1)).shape == [1, 1, 4, 4])
  // Max is differentiable only where each window's maximum is unique by more than the step h:
  // use a shuffled ramp whose values are 0.1 apart (random normals can tie within h).
  var rng = SplitMix64(seed: 2)
  let ramp = Tensor(shape: [2, 2, 5, 5], scalars: (0..<100).map { Float($0) * 0.1 }.shuffled(using: &rng), requiresGrad: true)
  #expect(checkGradients([ramp]) { maxPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }.maxError < gradientTolerance)
  #expect(gradientError([[2, 2, 5, 5]]) { avgPool2d($0[0], kernel: (2, 2), stride: (1, 1), padding: (1, 1)) } < gradientTolerance)
}

@Test func dropoutKeepsExpectationAndIsSeeded() {
  var r1 = SplitMix64(seed: 5), r2 = SplitMix64(seed: 5)
  let x = Tensor.ones([10_000])
  let y = dropout(x, probability: 0.25, using: &r1)
  #expect(y.scalars == dropout(x, probability: 0.25, using: &r2).scalars)
  #expect(Set(y.scalars).isSubset(of: [0, Float(1) / 0.75]))
  let mean = y.scalars.reduce(0, +) / 10_000
  #expect(abs(mean - 1) < 0.05)  // std of the mean ≈ 0.0058 here; 0.05 is over 8σ
  var r3 = SplitMix64(seed: 6)
  let leaf = Tensor.ones([4], requiresGrad: true)
  let z = dropout(leaf, probability: 0.5, using: &r3)
  z.sum().backward()
  #expect(leaf.grad?.scalars == z.scalars)  // d(x ⊙ mask)/dx = mask, and x = 1
}

@Test(arguments: [Float(0), 0.1, 0.5])
func crossEntropyValueAndGradients(smoothing: Float) {
  var rng = SplitMix64(seed: 8)
  let logits = Tensor.randomNormal([4, 5], using: &rng)
  let labels = [0, 3, 4, 3]
  // Reference in Double from the definition: −Σ q log softmax, averaged over rows.
  var expected = 0.0
  for r in 0..<4 {
    let row = (0..<5).map { Double(logits.scalars[r * 5 + $0]) }
    let lse = log(row.map { exp($0) }.reduce(0, +))
    for c in 0..<5 {
      let q = (c == labels[r] ? 1 - Double(smoothing) : 0) + Double(smoothing) / 5
      expected -= q * (row[c] - lse) / 4
    }
  }
  #expect(abs(Double(crossEntropy(logits: logits, labels: labels, labelSmoothing: smoothing).item) - expected) < 1e-5)
  #expect(gradientError([[4, 5]]) { crossEntropy(logits: $0[0], labels: labels, labelSmoothing: smoothing) } < gradientTolerance)
}

/// Max pooling over enough planes that they are split across threads, against a direct loop
/// over every window (PyTorch's rule: padding never wins, the first maximum in window order
/// is the one the gradient goes to).
@Test func maxPoolingSplitOverPlanesMatchesTheDirectLoop() {
  var rng = SplitMix64(seed: 11)
  let (n, c, h, w) = (2, 8, 29, 31)
  let x = Tensor.randomNormal([n, c, h, w], requiresGrad: true, using: &rng)
  let y = maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
  let (oh, ow) = (15, 16)
  #expect(y.shape == [n, c, oh, ow])
  var expected = [Float](), winners = [Int]()
  for plane in 0..<(n * c) {
    for oy in 0..<oh {
      for ox in 0..<ow {
        var best = -Float.infinity, at = -1
        for iy in (oy * 2 - 1)...(oy * 2 + 1) where iy >= 0 && iy < h {
          for ix in (ox * 2 - 1)...(ox * 2 + 1) where ix >= 0 && ix < w {
            let index = (plane * h + iy) * w + ix
            if at < 0 || x.scalars[index] > best { (best, at) = (x.scalars[index], index) }
          }
        }
        expected.append(best)
        winners.append(at)
      }
    }
  }
  #expect(y.scalars == expected)
  let upstream = Tensor.randomNormal(y.shape, using: &rng)
  y.backward(gradient: upstream)
  var gradient = [Float](repeating: 0, count: x.count)
  for (o, i) in winners.enumerated() { gradient[i] += upstream.scalars[o] }
  #expect(x.grad?.scalars == gradient)
}
