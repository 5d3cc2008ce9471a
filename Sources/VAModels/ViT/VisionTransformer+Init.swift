import VALayers
import VATensorCore

extension VisionTransformer {
  /// A freshly initialised model (timm's scheme: truncated normal std 0.02 for weights and
  /// embeddings, zero biases, unit LayerNorms, LayerScale γ = 1e-5 when enabled; an
  /// attention-pooling head when `globalPool == .attention`).
  public init<G: RandomNumberGenerator>(_ c: ViTConfiguration, using rng: inout G) {
    let d = c.embedDimension
    func newNorm() -> LayerNorm { LayerNorm(kind: c.normKind, channels: d, eps: c.layerNormEps) }
    configuration = c
    if let stemShape = c.convStem {
      precondition(stemShape.totalStride == c.patchSize, "conv stem stride \(stemShape.totalStride) differs from the patch size \(c.patchSize)")
      let stem = ConvStem(stemShape, using: &rng)
      convStem = stem
      patchEmbedding = PatchEmbedding(projection: Linear(inputs: stem.outputChannels, outputs: d, using: &rng), patchSize: 1)
    } else {
      patchEmbedding = PatchEmbedding(
        projection: Linear(inputs: 3 * c.patchSize * c.patchSize, outputs: d, using: &rng), patchSize: c.patchSize, norm: c.embedNorm ? newNorm() : nil)
    }
    classToken = c.classToken ? Tensor.randomNormal([1, d], mean: 0, std: 1e-6, using: &rng) : nil
    registerTokens = c.registerTokens > 0 ? Tensor.randomNormal([c.registerTokens, d], mean: 0, std: 1e-6, using: &rng) : nil
    positionEmbedding = c.positionEmbedding == .learned ? Tensor.randomTruncatedNormal([c.positionEmbeddingRows, d], mean: 0, std: 0.02, using: &rng) : nil
    preNorm = c.preNorm ? newNorm() : nil
    blocks = (0..<c.depth).map { _ in
      TransformerBlock(
        norm1: newNorm(),
        attention: MultiHeadSelfAttention(qkv: Linear(inputs: d, outputs: 3 * d, using: &rng), projection: Linear(inputs: d, outputs: d, using: &rng), headCount: c.headCount),
        layerScale1: c.layerScale ? LayerScale(gamma: Tensor(repeating: 1e-5, shape: [d])) : nil,
        norm2: newNorm(),
        mlp: Mlp(fc1: Linear(inputs: d, outputs: c.mlpHiddenDimension, using: &rng), fc2: Linear(inputs: c.mlpHiddenDimension, outputs: d, using: &rng), approximation: c.activation),
        layerScale2: c.layerScale ? LayerScale(gamma: Tensor(repeating: 1e-5, shape: [d])) : nil)
    }
    self.norm = c.fcNorm ? nil : newNorm()
    fcNorm = c.fcNorm ? newNorm() : nil
    head = c.classCount > 0 ? Linear(inputs: d, outputs: c.classCount, using: &rng) : nil
    if c.globalPool == .attention {
      // timm's AttentionPoolLatent: latent ~ truncated normal with std D^-1/2, its MLP as wide
      // as the blocks'.
      attentionPool = AttentionPoolHead(
        latent: Tensor.randomTruncatedNormal([1, d], mean: 0, std: 1 / Float(d).squareRoot(), using: &rng),
        query: Linear(inputs: d, outputs: d, using: &rng), keyValue: Linear(inputs: d, outputs: 2 * d, using: &rng),
        projection: Linear(inputs: d, outputs: d, using: &rng), norm: newNorm(),
        mlp: Mlp(fc1: Linear(inputs: d, outputs: c.mlpHiddenDimension, using: &rng), fc2: Linear(inputs: c.mlpHiddenDimension, outputs: d, using: &rng), approximation: c.activation),
        headCount: c.poolHeadCount ?? c.headCount)
    }
  }
}
