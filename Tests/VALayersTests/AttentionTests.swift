import Foundation
import VATensorCore
import VATestSupport
import Testing
@testable import VALayers

/// A small attention layer with peaky random weights.
private func attention(channels: Int, heads: Int, rng: inout SplitMix64) -> MultiHeadSelfAttention {
  MultiHeadSelfAttention(
    qkv: Linear(weight: randomLeaf([3 * channels, channels], std: 0.8, using: &rng), bias: randomLeaf([3 * channels], std: 0.1, using: &rng)),
    projection: Linear(weight: randomLeaf([channels, channels], std: 0.5, using: &rng), bias: randomLeaf([channels], std: 0.1, using: &rng)),
    headCount: heads)
}

struct AttentionTests {
  @Test(arguments: [AttentionMask.full, .window(radius: 1), .window(radius: 0)])
  func rowsAreDistributionsAndRecordingChangesNothing(mask: AttentionMask) {
    var rng = SplitMix64(seed: 1)
    let layer = attention(channels: 8, heads: 2, rng: &rng)
    // One class token and a 4x3 grid.
    let x = Tensor.randomNormal([13, 8], using: &rng)
    let allowed = mask.allowed(prefixTokens: 1, gridWidth: 4, gridHeight: 3)
    let additive = allowed.map { Tensor.attentionMask(allowed: $0, shape: [13, 13]) }
    let (plain, none) = withGradientsDisabled { layer(x, mask: additive, record: false) }
    let (recorded, weights) = withGradientsDisabled { layer(x, mask: additive, record: true) }
    #expect(none == nil)
    // Without recording (tiled above tiledFromTokens tokens): the same up to rounding.
    #expect(maxAbsoluteDifference(plain.scalars, recorded.scalars) < 1e-5)
    let w = weights!.scalars
    for row in 0..<(2 * 13) {
      #expect(abs(w[(row * 13)..<((row + 1) * 13)].reduce(0, +) - 1) < 1e-5)
    }
    if let allowed {
      for h in 0..<2 {
        for q in 0..<13 {
          for k in 0..<13 where !allowed[q * 13 + k] {
            #expect(w[h * 169 + q * 13 + k] == 0, "head \(h) query \(q) attends to masked key \(k)")
          }
        }
      }
    }
  }

  /// Inference without recording takes the tiled kernel; with recording, the plain path that
  /// forms every weight. Prefix tokens (a class token and a register) stay global under the
  /// window mask; 2 + 20x20 = 402 tokens (above `tiledFromTokens`) span several query blocks
  /// and key tiles.
  @Test(arguments: [AttentionMask.full, .window(radius: 2), .window(radius: 0)])
  func tiledInferenceMatchesThePlainPathWithPrefixTokens(mask: AttentionMask) {
    var rng = SplitMix64(seed: 9)
    let layer = attention(channels: 16, heads: 2, rng: &rng)
    let tokens = 2 + 20 * 20
    #expect(tokens > MultiHeadSelfAttention.tiledFromTokens)
    let x = Tensor.randomNormal([tokens, 16], using: &rng)
    let additive = mask.allowed(prefixTokens: 2, gridWidth: 20, gridHeight: 20).map { Tensor.attentionMask(allowed: $0, shape: [tokens, tokens]) }
    let (tiled, _) = withGradientsDisabled { layer(x, mask: additive, record: false) }
    let (plain, _) = withGradientsDisabled { layer(x, mask: additive, record: true) }
    #expect(maxAbsoluteDifference(tiled.scalars, plain.scalars) < 1e-5)
  }

  /// Inference takes `fusedSelfAttention` (q, k, v read in place); with gradients on, the
  /// composed path records the graph. Both must give the same output and weights, up to GEMM
  /// rounding (the scale is applied inside the GEMM instead of after it).
  @Test(arguments: [
    (batch: 1, tokens: 13, channels: 8, heads: 2, mask: AttentionMask.full),
    (batch: 3, tokens: 13, channels: 12, heads: 3, mask: .window(radius: 1)),
    (batch: 2, tokens: 13, channels: 16, heads: 1, mask: .full),
    // ViT-Ti's heads on a 14 x 14 grid: several query blocks per head, the last one ragged.
    (batch: 2, tokens: 197, channels: 48, heads: 3, mask: .window(radius: 2)),
  ])
  func fusedInferencePathMatchesComposedPath(batch: Int, tokens: Int, channels: Int, heads: Int, mask: AttentionMask) {
    var rng = SplitMix64(seed: 5)
    let layer = attention(channels: channels, heads: heads, rng: &rng)
    let x = Tensor.randomNormal([batch, tokens, channels], using: &rng)
    let side = tokens == 13 ? (4, 3) : (14, 14)
    let additive = mask.allowed(prefixTokens: 1, gridWidth: side.0, gridHeight: side.1).map { Tensor.attentionMask(allowed: $0, shape: [tokens, tokens]) }
    let (composed, composedWeights) = layer(x, mask: additive, record: true)  // leaves require grad
    #expect(composed.isRecorded)
    let (fused, fusedWeights) = withGradientsDisabled { layer(x, mask: additive, record: true) }
    #expect(!fused.isRecorded)
    #expect(fused.shape == composed.shape && fusedWeights!.shape == composedWeights!.shape)
    #expect(maxAbsoluteDifference(fusedWeights!.scalars, composedWeights!.scalars) < 1e-5)  // weights are in [0, 1]
    #expect(relativeError(fused, composed) < 1e-5)
  }

  @Test func windowMaskKeepsPatchesWithinTheRadiusAndPrefixTokensGlobal() throws {
    let allowed = try #require(AttentionMask.window(radius: 1).allowed(prefixTokens: 1, gridWidth: 4, gridHeight: 3))
    let t = 13
    #expect((0..<t).allSatisfy { allowed[$0] && allowed[$0 * t] })  // class token sees and is seen by all
    // Patch (0,0) is token 1: it sees (0..1, 0..1) = tokens 1, 2, 5, 6 and the class token.
    let seen = (0..<t).filter { allowed[1 * t + $0] }
    #expect(seen == [0, 1, 2, 5, 6])
  }

  /// Graph attention: each token attends to itself and its successor only (a chain).
  @Test func adjacencyMaskRestrictsToTheGraph() {
    var rng = SplitMix64(seed: 2)
    let layer = attention(channels: 4, heads: 1, rng: &rng)
    let t = 5
    let edges = (0..<(t * t)).map { $0 / t == $0 % t || $0 % t == $0 / t + 1 }
    let mask = AttentionMask.adjacency(edges).allowed(prefixTokens: 0, gridWidth: 5, gridHeight: 1)!
    let (_, weights) = withGradientsDisabled { layer(Tensor.randomNormal([t, 4], using: &rng), mask: Tensor.attentionMask(allowed: mask, shape: [t, t]), record: true) }
    let w = weights!.scalars
    #expect(w[4 * t + 4] == 1)  // the last token has only itself
    #expect(w[0 * t + 2] == 0 && w[0 * t + 1] > 0 && w[0 * t + 0] > 0)
  }

  /// Backward through masked attention and a whole block, against central differences
  /// (Double accumulation; 1e-2 relative because Float32 forward passes limit the
  /// finite differences' precision at h = 1e-2 on peaky softmaxes).
  @Test(arguments: [AttentionMask.full, .window(radius: 1), .adjacency((0..<49).map { $0 % 7 <= $0 / 7 })])
  func attentionGradientsMatchFiniteDifferences(mask: AttentionMask) {
    var rng = SplitMix64(seed: 3)
    let layer = attention(channels: 4, heads: 2, rng: &rng)
    let x = randomLeaf([7, 4], using: &rng)
    let allowed = mask.allowed(prefixTokens: 1, gridWidth: 3, gridHeight: 2)
    let additive = allowed.map { Tensor.attentionMask(allowed: $0, shape: [7, 7]) }
    let inputs = [x, layer.qkv.weight, layer.qkv.bias!, layer.projection.weight, layer.projection.bias!]
    let result = checkGradients(inputs) { t in
      let l = MultiHeadSelfAttention(qkv: Linear(weight: t[1], bias: t[2]), projection: Linear(weight: t[3], bias: t[4]), headCount: 2)
      return l(t[0], mask: additive).output
    }
    #expect(result.maxError < 1e-2, "\(result)")
  }

  @Test func blockGradientsMatchFiniteDifferences() {
    var rng = SplitMix64(seed: 4)
    let d = 4
    let block = TransformerBlock(
      norm1: LayerNorm(weight: randomLeaf([d], using: &rng), bias: randomLeaf([d], using: &rng), eps: 1e-6),
      attention: attention(channels: d, heads: 2, rng: &rng),
      layerScale1: LayerScale(gamma: randomLeaf([d], using: &rng)),
      norm2: LayerNorm(weight: randomLeaf([d], using: &rng), bias: randomLeaf([d], using: &rng), eps: 1e-6),
      mlp: Mlp(fc1: Linear(weight: randomLeaf([8, d], using: &rng), bias: randomLeaf([8], using: &rng)), fc2: Linear(weight: randomLeaf([d, 8], using: &rng), bias: randomLeaf([d], using: &rng))),
      layerScale2: LayerScale(gamma: randomLeaf([d], using: &rng)))
    let x = randomLeaf([5, d], using: &rng)
    let inputs = [x] + block.parameters
    let result = checkGradients(inputs) { _ in block(x).output }
    #expect(result.maxError < 1e-2, "\(result)")
  }
}

struct PatchTests {
  @Test func patchEmbeddingEqualsAStridedConvolution() {
    var rng = SplitMix64(seed: 5)
    let image = Tensor.randomNormal([3, 8, 12], using: &rng)
    let weight = Tensor.randomNormal([5, 3, 4, 4], using: &rng)
    let bias = Tensor.randomNormal([5], using: &rng)
    let embedding = PatchEmbedding(projection: Linear(weight: weight.reshaped([5, 48]), bias: bias), patchSize: 4)
    let patches = embedding(image)  // [6, 5]
    let conv = conv2d(image.reshaped([1, 3, 8, 12]), weight: weight, bias: bias, stride: (4, 4))  // [1, 5, 2, 3]
    let expected = conv.reshaped([5, 6]).transposed(0, 1)
    #expect(patches.shape == [6, 5])
    #expect(zip(patches.scalars, expected.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    let back = Patchifier.unpatchify(Patchifier.patchify(image, patchSize: 4), patchSize: 4, gridWidth: 3, gridHeight: 2)
    #expect(back.scalars == image.scalars)
  }

  @Test func sinCosEncodingFollowsMAE() {
    // MAE's get_2d_sincos_pos_embed(8, (2, 3)): channel 0 is sin(column · 1), channel 2 cos(column · 1).
    let e = SinCosPositionalEncoding.twoDimensional(gridWidth: 3, gridHeight: 2, dimension: 8)
    let patch = 1 * 3 + 2  // row 1, column 2
    #expect(abs(e[patch * 8 + 0] - sin(2)) < 1e-6 && abs(e[patch * 8 + 2] - cos(2)) < 1e-6)
    #expect(abs(e[patch * 8 + 4] - sin(1)) < 1e-6 && abs(e[patch * 8 + 1] - sin(2 / 100)) < 1e-6)
  }
}
