import Testing
import VATensorCore
import VATestSupport
@testable import VALayers

/// A transformer block whose norms ride in the next GEMM's packing (`norm1` in qkv's, `norm2` in
/// fc1's) against the block written out with every norm composed, for the MLP forms and norm
/// kinds the block meets: GELU exact and tanh, SwiGLU, LayerNorm and RMSNorm (which has no
/// prologue and stays composed), with and without LayerScale, one sequence and a batch.
struct NormedBlockTests {
  enum Variant: CaseIterable { case plain, layerScale, tanhGELU, swiGLU, rmsNorm }

  static func block(_ variant: Variant, channels d: Int, hidden: Int, rng: inout SplitMix64) -> TransformerBlock {
    func linear(_ outputs: Int, _ inputs: Int) -> Linear {
      Linear(weight: Tensor.randomNormal([outputs, inputs], std: 0.3, using: &rng), bias: Tensor.randomNormal([outputs], std: 0.1, using: &rng))
    }
    func norm() -> LayerNorm {
      let kind: LayerNorm.Kind = variant == .rmsNorm ? .rms : .layer
      let weight = Tensor.randomNormal([d], mean: 1, std: 0.2, using: &rng)
      return LayerNorm(kind: kind, weight: weight, bias: kind == .layer ? Tensor.randomNormal([d], std: 0.2, using: &rng) : nil, eps: 1e-6)
    }
    let attention = MultiHeadSelfAttention(qkv: linear(3 * d, d), projection: linear(d, d), headCount: 2)
    let mlp = Mlp(
      fc1: linear(hidden, d), fc2: linear(d, hidden), approximation: variant == .tanhGELU ? .tanh : .exact,
      gate: variant == .swiGLU ? linear(hidden, d) : nil)
    let scale = variant == .layerScale ? LayerScale(gamma: Tensor.randomNormal([d], std: 0.5, using: &rng)) : nil
    return TransformerBlock(norm1: norm(), attention: attention, layerScale1: scale, norm2: norm(), mlp: mlp, layerScale2: scale)
  }

  /// The block with both norms written out: `x + ls1(attn(norm1(x)))`, then `+ ls2(mlp(norm2(x)))`.
  static func composed(_ block: TransformerBlock, _ x: Tensor) -> Tensor {
    let attended = block.attention(block.norm1(x)).output
    let h = x + (block.layerScale1.map { $0(attended) } ?? attended)
    let branch = block.mlp(block.norm2(h))
    return h + (block.layerScale2.map { $0(branch) } ?? branch)
  }

  @Test(arguments: Variant.allCases, [[13, 16], [2, 13, 16]]) func blockMatchesTheComposedNorms(variant: Variant, shape: [Int]) {
    var rng = SplitMix64(seed: 29)
    let block = Self.block(variant, channels: 16, hidden: 40, rng: &rng)
    let x = Tensor.randomNormal(shape, mean: 0.2, std: 1.5, using: &rng)
    let reference = Self.composed(block, x)
    let fused = block(x).output, tapped = block.tapped(x)
    for (name, output) in [("callAsFunction", fused), ("tapped", tapped.output)] {
      #expect(output.shape == reference.shape)
      let worst = zip(output.scalars, reference.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
      // Each normalised value has the composed bits; GELU's vectorised erf differs by ≤ 1.5e-7.
      #expect(worst <= 1e-5, "\(variant) \(shape) \(name): error \(worst)")
    }
    // tapped still hands out norm1(x) itself (Grad-CAM's activations).
    #expect(tapped.normalized.scalars == block.norm1(x).scalars)
  }

  /// `Mlp(_:normalizedBy:)` and its residual form against `mlp(norm(x))`.
  @Test(arguments: Variant.allCases) func mlpMatchesTheComposedNorm(variant: Variant) {
    var rng = SplitMix64(seed: 31)
    let block = Self.block(variant, channels: 16, hidden: 40, rng: &rng)
    let x = Tensor.randomNormal([9, 16], mean: -0.4, std: 2, using: &rng), residual = Tensor.randomNormal([9, 16], using: &rng)
    let reference = block.mlp(block.norm2(x))
    for (name, output, expected) in [
      ("plain", block.mlp(x, normalizedBy: block.norm2), reference),
      ("residual", block.mlp(x, normalizedBy: block.norm2, addingTo: residual), residual + reference),
    ] {
      let worst = zip(output.scalars, expected.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
      #expect(worst <= 1e-5, "\(variant) \(name): error \(worst)")
    }
  }
}
