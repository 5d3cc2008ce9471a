import Testing
import VATestSupport
@testable import VATensorCore

// The fused attention's hand-written backward (`fusedSelfAttentionOutput` under autograd)
// against the composed ops' autograd and against finite differences. PyTorch autograd checks
// the same path through `MultiHeadSelfAttention` in VAModelsTests' OpGradientTests.

/// The composed attention over `qkv` `[B, T, 3C]`: the reference path, op by op.
private func composedAttention(_ qkv: Tensor, heads: Int, mask: Tensor?, bias: Tensor?) -> Tensor {
  let (b, t, c) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
  let d = c / heads
  let parts = qkv.reshaped([b, t, 3, heads, d]).permuted([2, 0, 3, 1, 4]).chunked(3, axis: 0).map { $0.reshaped([b * heads, t, d]) }
  var scores = matmul(parts[0], parts[1], transposeB: true) * (1 / Float(d).squareRoot())
  if let bias { scores = (scores.reshaped([b, heads, t, t]) + bias).reshaped([b * heads, t, t]) }
  let merged = matmul(softmax(scores, axis: -1, mask: mask), parts[2])
  return merged.reshaped([b, heads, t, d]).permuted([0, 2, 1, 3]).reshaped([b, t, c])
}

struct TrainableAttentionCase: CustomTestStringConvertible, Sendable {
  var batch: Int, tokens: Int, heads: Int, headDimension: Int, masked: Bool, biased: Bool
  var testDescription: String { "B\(batch) T\(tokens) H\(heads) d\(headDimension)\(masked ? " mask" : "")\(biased ? " bias" : "")" }
}

struct TrainableAttentionTests {
  /// Gradients within this fraction of the composed path's largest magnitude: both are float
  /// sums of the same products in different orders.
  static let tolerance = 1e-5

  /// Odd sizes (no tile multiples), one token, a masked row with every key dropped, a bias,
  /// and patch-classify's training shape (T = 65, 4 heads of 32).
  static let cases: [TrainableAttentionCase] = [
    .init(batch: 1, tokens: 1, heads: 1, headDimension: 3, masked: false, biased: false),
    .init(batch: 2, tokens: 13, heads: 3, headDimension: 5, masked: true, biased: false),
    .init(batch: 3, tokens: 7, heads: 2, headDimension: 4, masked: true, biased: true),
    .init(batch: 2, tokens: 65, heads: 4, headDimension: 32, masked: false, biased: false),
  ]

  /// A mask dropping about a third of the keys, the diagonal kept, and row 0 dropped entirely.
  static func mask(tokens t: Int, using rng: inout SplitMix64) -> Tensor {
    var values = [Float](repeating: 0, count: t * t)
    for i in 0..<t {
      for j in 0..<t where (i != j && rng.next() % 3 == 0) || (i == 0 && t > 1) { values[i * t + j] = -.infinity }
    }
    return Tensor(shape: [t, t], scalars: values)
  }

  @Test(arguments: cases) func backwardMatchesTheComposedPath(_ c: TrainableAttentionCase) throws {
    var rng = SplitMix64(seed: UInt64(c.tokens * 31 + c.heads))
    let width = c.heads * c.headDimension
    let qkv = randomLeaf([c.batch, c.tokens, 3 * width], using: &rng)
    let mask = c.masked ? Self.mask(tokens: c.tokens, using: &rng) : nil
    let bias = c.biased ? Tensor.randomNormal([c.heads, c.tokens, c.tokens], using: &rng) : nil
    let cotangent = Tensor.randomNormal([c.batch, c.tokens, width], using: &rng)

    let fused = fusedSelfAttentionOutput(qkv: qkv, heads: c.heads, mask: mask, bias: bias)
    fused.backward(gradient: cotangent)
    let fusedGradient = try #require(qkv.grad).scalars
    qkv.grad = nil
    let composed = composedAttention(qkv, heads: c.heads, mask: mask, bias: bias)
    composed.backward(gradient: cotangent)
    let composedGradient = try #require(qkv.grad).scalars

    #expect(relativeError(fused.scalars, composed.scalars) < Self.tolerance)
    #expect(relativeError(fusedGradient, composedGradient) < Self.tolerance)
    // A wrong factor or a missing part would not cancel: the gradient has real magnitude.
    #expect(composedGradient.contains { abs($0) > 1e-3 } || c.tokens == 1)
  }

  @Test func backwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 7)
    let mask = Self.mask(tokens: 5, using: &rng)
    let qkv = randomLeaf([2, 5, 3 * 6], using: &rng)
    let result = checkGradients([qkv], seed: 3) { fusedSelfAttentionOutput(qkv: $0[0], heads: 2, mask: mask) }
    #expect(result.maxError < gradientTolerance, "\(result.errors)")
  }

  /// Without gradients the same call records nothing (inference keeps its scratch blocks).
  @Test func inferenceRecordsNoNode() {
    var rng = SplitMix64(seed: 9)
    let qkv = randomLeaf([1, 4, 12], using: &rng)
    let output = withGradientsDisabled { fusedSelfAttentionOutput(qkv: qkv, heads: 2) }
    #expect(!output.requiresGrad)
  }
}
