import VALayers
import VATensorCore

extension SwinTransformer {
  /// A freshly initialised Swin v1 for `imageSize × imageSize` inputs, as timm initialises
  /// `SwinTransformer` (`init_weights` with `weight_init=''`): every Linear (qkv, proj, MLP,
  /// patch-merging reduction, head) a truncated normal with std 0.02 and zero bias, every
  /// LayerNorm γ = 1 and β = 0, each relative position bias table a truncated normal with
  /// std 0.02 (`WindowAttention.init_weights`), and the patch embedding left at PyTorch's
  /// `Conv2d` default, `U(−1/√fan_in, 1/√fan_in)` for its weight and bias (timm's init touches
  /// Linear layers only and does not reset the conv).
  ///
  /// Each table is sized for its block's window as timm builds it for `img_size = imageSize`
  /// (`_calc_window_shift`: a map no larger than the window gets a window of its size), so the
  /// saved model matches what `timm.create_model(..., img_size=imageSize)` expects.
  /// - Parameters:
  ///   - configuration: a v1 configuration with the timm window policy.
  ///   - imageSize: the side of the square training images, a multiple of the patch size.
  ///   - classes: outputs of the head (`head.fc`).
  public init<G: RandomNumberGenerator>(_ configuration: SwinConfiguration, imageSize: Int, classes: Int, using rng: inout G) {
    let c = configuration
    precondition(c.version == .v1 && c.windowPolicy == .timm, "only Swin v1 with timm's window policy is initialised, got v\(c.version.rawValue) \(c.windowPolicy)")
    precondition(imageSize % c.patchSize == 0, "image size \(imageSize) is not a multiple of the patch size \(c.patchSize)")
    precondition(zip(c.heads, 0..<c.stageCount).allSatisfy { c.width(stage: $1) % $0 == 0 }, "heads \(c.heads) do not divide the stage widths from \(c.embedDimension)")
    let eps = c.layerNormEps
    func linear(_ inputs: Int, _ outputs: Int, bias: Bool = true) -> Linear { Linear(inputs: inputs, outputs: outputs, bias: bias, using: &rng) }
    let (d, p) = (c.embedDimension, c.patchSize)
    let bound = 1 / Float(3 * p * p).squareRoot()
    let embedding = PatchEmbedding(
      projection: Linear(
        weight: Tensor.randomUniform([d, 3 * p * p], low: -bound, high: bound, using: &rng),
        bias: Tensor.randomUniform([d], low: -bound, high: bound, using: &rng)),
      patchSize: p, norm: LayerNorm(channels: d, eps: eps))
    let geometry = c.geometry(gridHeight: imageSize / p, gridWidth: imageSize / p)
    var stages: [[SwinBlock]] = [], merges: [SwinPatchMerging] = []
    var next = geometry.makeIterator()
    for i in 0..<c.stageCount {
      let width = c.width(stage: i), heads = c.heads[i], hidden = c.mlpRatio * width
      if i > 0 {
        // timm's PatchMerging: norm over 4·C_{i−1} = 2·C_i, then reduction 2·C_i → C_i without bias.
        merges.append(SwinPatchMerging(reduction: linear(2 * width, width, bias: false), norm: LayerNorm(channels: 2 * width, eps: eps), normAfter: false))
      }
      var blocks: [SwinBlock] = []
      for _ in 0..<c.depths[i] {
        let g = next.next()!
        let window = [g.windowHeight, g.windowWidth]
        let rows = (2 * window[0] - 1) * (2 * window[1] - 1)
        let attention = SwinWindowAttention(
          qkv: linear(width, 3 * width), projection: linear(width, width), headCount: heads,
          biasTable: Tensor.randomTruncatedNormal([rows, heads], mean: 0, std: 0.02, using: &rng), window: window)
        blocks.append(
          SwinBlock(
            norm1: LayerNorm(channels: width, eps: eps), attention: attention, norm2: LayerNorm(channels: width, eps: eps),
            mlp: Mlp(fc1: linear(width, hidden), fc2: linear(hidden, width)), postNorm: false))
      }
      stages.append(blocks)
    }
    let f = c.featureWidth
    self.init(
      configuration: c, patchEmbedding: embedding, stages: stages, merges: merges, norm: LayerNorm(channels: f, eps: eps),
      head: classes > 0 ? linear(f, classes) : nil)
  }
}
