import Foundation
import VATensorCore
import VATestSupport
import Testing
@testable import VALayers

/// An additive per-head bias on the scores (BEiT's relative position bias) takes the same
/// route through the inference fast path and the composed autograd path.
struct AttentionBiasTests {
  func layer(channels: Int, heads: Int, rng: inout SplitMix64) -> MultiHeadSelfAttention {
    MultiHeadSelfAttention(
      qkv: Linear(weight: randomLeaf([3 * channels, channels], std: 0.8, using: &rng), bias: randomLeaf([3 * channels], std: 0.1, using: &rng)),
      projection: Linear(weight: randomLeaf([channels, channels], std: 0.5, using: &rng), bias: randomLeaf([channels], std: 0.1, using: &rng)),
      headCount: heads)
  }

  @Test(arguments: [(batch: 1, heads: 2), (batch: 3, heads: 3)])
  func fusedAndComposedPathsAgree(batch: Int, heads: Int) {
    var rng = SplitMix64(seed: 8)
    let attention = layer(channels: 4 * heads, heads: heads, rng: &rng)
    let x = Tensor.randomNormal([batch, 7, 4 * heads], using: &rng)
    let bias = Tensor.randomNormal([heads, 7, 7], using: &rng)
    let (composed, composedWeights) = attention(x, bias: bias, record: true)
    #expect(composed.isRecorded)
    let (fused, fusedWeights) = withGradientsDisabled { attention(x, bias: bias, record: true) }
    let (unbiased, _) = withGradientsDisabled { attention(x, record: true) }
    #expect(maxAbsoluteDifference(fusedWeights!.scalars, composedWeights!.scalars) < 1e-5)
    #expect(relativeError(fused, composed) < 1e-5)
    // The bias matters: without it the output is far off.
    #expect(relativeError(fused, unbiased) > 1e-2)
  }

  @Test func biasGradientMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 9)
    let attention = layer(channels: 4, heads: 2, rng: &rng)
    let x = Tensor.randomNormal([5, 4], using: &rng)
    let bias = randomLeaf([2, 5, 5], std: 0.5, using: &rng)
    let result = checkGradients([bias], step: 1e-2) { _ in attention(x, bias: bias).output }
    #expect(result.maxError < 2e-2, "\(result)")
  }
}
