import VALayers
import VATensorCore

/// A Swin Transformer, v1 (Liu et al. 2021, "Swin Transformer: Hierarchical Vision Transformer
/// using Shifted Windows") or v2 (Liu et al. 2022, "Swin Transformer V2: Scaling Up Capacity
/// and Resolution"), reproducing timm's `SwinTransformer` / `SwinTransformerV2` and
/// transformers' `SwinForImageClassification` / `Swinv2ForImageClassification` in inference.
///
/// Flow: patch embedding (a `P × P` stride-`P` convolution and a LayerNorm) → stages of blocks
/// with window attention, a patch merging before every stage but the first → final LayerNorm →
/// mean over the map → linear head.
///
/// Shapes: the input is a normalised image `[3, H, W]`; stage `i` works on a map of
/// `⌈H/(P·2^i)⌉ × ⌈W/(P·2^i)⌉` cells (row-major tokens) with `C·2^i` channels; block `l`'s
/// attention is `[windows, heads, N, N]` (see `SwinBlockGeometry` for the window order).
public struct SwinTransformer: Sendable {
  /// The architecture.
  public var configuration: SwinConfiguration
  /// The patch embedding with its norm (timm's `patch_embed.proj`, `patch_embed.norm`).
  public var patchEmbedding: PatchEmbedding
  /// Per stage, its blocks.
  public var stages: [[SwinBlock]]
  /// The patch merging before stage `i + 1` (timm's `layers.{i+1}.downsample`, transformers'
  /// `encoder.layers.{i}.downsample`).
  public var merges: [SwinPatchMerging]
  /// The final LayerNorm (timm's `norm`, transformers' `layernorm`).
  public var norm: LayerNorm
  /// The classifier on the pooled features, or nil for a backbone (`SwinModel`).
  public var head: Linear?

  /// A model from its parts; preconditions check one block list per stage and one merging between stages.
  public init(configuration: SwinConfiguration, patchEmbedding: PatchEmbedding, stages: [[SwinBlock]], merges: [SwinPatchMerging], norm: LayerNorm, head: Linear?) {
    precondition(stages.map(\.count) == configuration.depths, "blocks per stage \(stages.map(\.count)) differ from depths \(configuration.depths)")
    precondition(merges.count == configuration.stageCount - 1, "\(merges.count) patch mergings for \(configuration.stageCount) stages")
    self.configuration = configuration
    self.patchEmbedding = patchEmbedding
    self.stages = stages
    self.merges = merges
    self.norm = norm
    self.head = head
  }

  /// What one forward pass produced. For a batch every tensor has a leading `[B]` axis.
  public struct Output: Sendable {
    /// `[classes]`, when the model has a head.
    public var logits: Tensor?
    /// The pooled features `[C_last]` the head reads.
    public var pooled: Tensor
    /// The last stage's tokens after the final norm, `[h·w, C_last]` row-major.
    public var tokens: Tensor
    /// Per block (counted through the stages), the post-softmax attention `[windows, heads, N, N]`.
    public var attention: [Tensor]
    /// Per block, where its windows lie (stage, map size, window, shift).
    public var geometry: [SwinBlockGeometry]
    /// Per stage, its map `(height, width)` in cells.
    public var stageSizes: [(height: Int, width: Int)]
  }

  /// The blocks' geometry for an input of `height × width` pixels, without running the model.
  /// Transformers pads an input that is not a multiple of the patch; timm refuses it.
  public func geometry(imageHeight: Int, imageWidth: Int) -> [SwinBlockGeometry] {
    let p = configuration.patchSize
    return configuration.geometry(gridHeight: (imageHeight + p - 1) / p, gridWidth: (imageWidth + p - 1) / p)
  }

  /// Runs the model on one image.
  /// - Parameter image: normalised `[3, H, W]`; with the timm policy `H` and `W` must be
  ///   multiples of the patch (timm's `strict_img_size`), with transformers' it is padded.
  /// - Returns: the outputs without a batch axis (`attention[l]` is `[windows, heads, N, N]`).
  /// - Throws: `SwinError` for an input of the wrong shape, or (transformers' v1) one whose
  ///   small feature maps clamp a window below its trained table.
  public func callAsFunction(_ image: Tensor) throws(SwinError) -> Output {
    guard image.rank == 3 else { throw .badInput(shape: image.shape, reason: "expected [3, H, W]") }
    var out = try callAsFunction(batch: image.unsqueezed(0))
    out.logits = out.logits?.squeezed(0)
    out.pooled = out.pooled.squeezed(0)
    out.tokens = out.tokens.squeezed(0)
    out.attention = out.attention.map { $0.squeezed(0) }
    return out
  }

  /// Runs the model on a batch of same-sized images: every matrix product covers the batch.
  /// - Parameter images: normalised `[B, 3, H, W]` (see the single-image call for `H`, `W`).
  /// - Returns: outputs with a leading `[B]` axis: logits `[B, classes]`, pooled `[B, C]`,
  ///   tokens `[B, h·w, C]`, `attention[l]` `[B, windows, heads, N, N]`.
  /// - Throws: `SwinError`, as the single-image call.
  public func callAsFunction(batch images: Tensor) throws(SwinError) -> Output {
    let c = configuration, p = c.patchSize
    guard images.rank == 4, images.shape[1] == 3, images.shape[2] >= p, images.shape[3] >= p else {
      throw .badInput(shape: images.shape, reason: "expected [B, 3, H, W] with H, W at least the patch size \(p)")
    }
    var x = images
    let (b, ih, iw) = (images.shape[0], images.shape[2], images.shape[3])
    if ih % p != 0 || iw % p != 0 {
      guard c.windowPolicy != .timm else { throw .badInput(shape: images.shape, reason: "not a multiple of the patch size \(p) (timm's strict_img_size)") }
      // SwinPatchEmbeddings.maybe_pad: zeros at the right, then the bottom.
      if iw % p != 0 { x = concat([x, Tensor.zeros([b, 3, ih, p - iw % p])], axis: 3) }
      if ih % p != 0 { x = concat([x, Tensor.zeros([b, 3, p - ih % p, x.shape[3]])], axis: 2) }
    }
    let geometry = self.geometry(imageHeight: ih, imageWidth: iw)
    // transformers' v1 indexes its table for the configured window only (a clamped window
    // fails there); timm resizes the table on load, as positionBias does.
    for (g, block) in zip(geometry, stages.joined()) where c.version == .v1 && c.windowPolicy == .huggingFace {
      let window = [g.windowHeight, g.windowWidth]
      if window != block.attention.trainedWindow {
        throw .windowNeedsResizedTable(block: g.block, window: window, trained: block.attention.trainedWindow)
      }
    }
    var tokens = patchEmbedding(x)  // [B, h·w, C]
    var (h, w) = ((ih + p - 1) / p, (iw + p - 1) / p)
    var attention: [Tensor] = []
    var sizes: [(height: Int, width: Int)] = []
    var next = geometry.makeIterator()
    for (stage, blocks) in stages.enumerated() {
      if stage > 0 {
        tokens = merges[stage - 1](tokens, height: h, width: w)
        (h, w) = ((h + 1) / 2, (w + 1) / 2)
      }
      sizes.append((h, w))
      for block in blocks {
        let g = next.next()!
        let (out, weights) = block(tokens, geometry: g)
        tokens = out
        let n = g.tokensPerWindow
        attention.append(weights.reshaped([b, g.windowCount, c.heads[stage], n, n]))
      }
    }
    tokens = norm(tokens)  // [B, h·w, C]
    let pooled = tokens.mean(axis: 1)
    return Output(logits: head.map { $0(pooled) }, pooled: pooled, tokens: tokens, attention: attention, geometry: geometry, stageSizes: sizes)
  }

}
