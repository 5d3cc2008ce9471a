import VALayers
import VATensorCore

/// A Vision Transformer (Dosovitskiy et al. 2021) that reproduces timm's `VisionTransformer`
/// and Hugging Face's `ViTModel` / `ViTForImageClassification` in inference.
///
/// Shapes: the input is a normalised image `[3, H, W]` with `H`, `W` multiples of the patch
/// size (any grid, square or not); tokens are `[T, D]` with `T = prefix + N`, in the model's
/// order: class token, registers, patches row-major.
public struct VisionTransformer: ParameterContainer, Sendable {
  /// The architecture the weights fit.
  public var configuration: ViTConfiguration
  /// With a convolutional stem: its `1 × 1` projection (patch side 1 over the stem's features).
  public var patchEmbedding: PatchEmbedding
  /// The convolutional stem before `patchEmbedding`, when the configuration has one.
  public var convStem: ConvStem? = nil
  /// The class token, `[1, D]`, or nil for a model without one.
  public var classToken: Tensor?
  /// DeiT's distillation token, `[1, D]`, or nil.
  public var distillationToken: Tensor?
  /// The register tokens, `[R, D]`, or nil.
  public var registerTokens: Tensor?
  /// The learned position table, `[rows, D]` (`configuration.positionEmbeddingRows` rows at the
  /// trained grid), or nil for sin-cos or no positions.
  public var positionEmbedding: Tensor?
  /// LayerNorm before the blocks (timm's `norm_pre`), or nil.
  public var preNorm: LayerNorm?
  /// BEiT's relative position bias: one per block, or a single one every block shares.
  public var relativePositionBiases: [RelativePositionBias] = []
  /// The transformer blocks, `configuration.depth` of them.
  public var blocks: [TransformerBlock]
  /// The final LayerNorm on every token (timm's `norm`), or nil when `fcNorm` replaces it.
  public var norm: LayerNorm?
  /// LayerNorm on the pooled features (timm's `fc_norm`), or nil.
  public var fcNorm: LayerNorm?
  /// The classification head, D → classes, or nil for a feature extractor.
  public var head: Linear?
  /// DeiT's distillation head, read from the distillation token.
  public var headDistillation: Linear? = nil
  /// The attention-pooling head (`globalPool == .attention`).
  public var attentionPool: AttentionPoolHead? = nil
  /// timm's mixed RoPE frequencies `[2, depth, heads, d/2]` (`rope.freqs`: per block and head,
  /// column then row), when `configuration.rotary` learns them. Read, not trained: the
  /// rotation's tables are built from them as constants (`RotaryPositions+Mixed.swift`).
  public var rotaryFrequencies: Tensor? = nil

  /// What one forward pass produced. For a batch every tensor has a leading `[B]` axis.
  public struct Output: Sendable {
    /// `[classes]`, when the model has a head.
    public var logits: Tensor?
    /// Final tokens `[T, D]` (after the final norm when the model has one).
    public var tokens: Tensor
    /// Per layer, post-softmax attention `[heads, T, T]`, when recorded.
    public var attention: [Tensor]
    /// The pooled features `[D]` the head reads (after `fcNorm`): the class token, the patch
    /// mean or the attention pool's output, as the model pools.
    public var pooled: Tensor?
    /// The attention-pooling head's weights `[heads, 1, N]` over the patches, when the model
    /// has one and attention is recorded or observed (`observeAttention`: they are only
    /// `heads · N` values, so a run that keeps chosen rows keeps them whole).
    public var poolAttention: Tensor?
    /// Patch columns of the input (its width / `P`).
    public var gridWidth: Int
    /// Patch rows of the input (its height / `P`).
    public var gridHeight: Int
    /// Per layer, the tokens its attention read (`norm1`'s output, `[T, D]`), when
    /// `recordAttentionInputs` asked for them: Grad-CAM's activations.
    public var attentionInputs: [Tensor] = []
    /// Per layer, the block's output tokens `[T, D]` (before any final norm), when
    /// `recordBlockOutputs` asked for them: what `--map norms` and `--map pca --layer l` read.
    public var blockOutputs: [Tensor] = []
  }

  /// Runs the model on one image.
  /// - Parameters:
  ///   - image: normalised `[3, H, W]`.
  ///   - mask: which keys each query may see (full by default).
  ///   - recordAttention: keep every layer's attention weights `[heads, T, T]`; the output
  ///     is the same either way up to float rounding (without it attention runs tiled, in
  ///     O(T·C) memory).
  ///   - recordAttentionInputs: keep every layer's `norm1` output (see `Output`).
  ///   - observeAttention: called per layer with the layer index and its fused `qkv`
  ///     projection `[B, T, 3C]` (see `MultiHeadSelfAttention`): how a caller records chosen
  ///     attention rows, or queries and keys, without every `[heads, T, T]`.
  ///   - recordBlockOutputs: keep every block's output tokens (see `Output.blockOutputs`).
  public func callAsFunction(
    _ image: Tensor, mask: AttentionMask = .full, recordAttention: Bool = false, recordAttentionInputs: Bool = false,
    recordBlockOutputs: Bool = false, observeAttention: ((_ layer: Int, _ qkv: Tensor) -> Void)? = nil
  ) -> Output {
    precondition(image.rank == 3 && image.shape[0] == 3, "input must be [3, H, W], got \(image.shape)")
    var out = callAsFunction(
      batch: image.unsqueezed(0), mask: mask, recordAttention: recordAttention,
      recordAttentionInputs: recordAttentionInputs, recordBlockOutputs: recordBlockOutputs, observeAttention: observeAttention)
    out.logits = out.logits?.squeezed(0)
    out.tokens = out.tokens.squeezed(0)
    out.attention = out.attention.map { $0.squeezed(0) }
    out.poolAttention = out.poolAttention?.squeezed(0)
    out.attentionInputs = out.attentionInputs.map { $0.squeezed(0) }
    out.blockOutputs = out.blockOutputs.map { $0.squeezed(0) }
    out.pooled = out.pooled?.squeezed(0)
    return out
  }

  /// Runs the model on a batch of same-sized images `[B, 3, H, W]`: every matrix product
  /// covers the whole batch (what training needs for speed). Outputs are `[B, …]`. With
  /// `training`, a convolutional stem's BatchNorms use the batch's statistics and update
  /// their running ones (nothing else in the model behaves differently in training).
  public func callAsFunction(
    batch images: Tensor, mask: AttentionMask = .full, recordAttention: Bool = false, recordAttentionInputs: Bool = false,
    recordBlockOutputs: Bool = false, observeAttention: ((_ layer: Int, _ qkv: Tensor) -> Void)? = nil, training: Bool = false
  ) -> Output {
    let c = configuration
    let p = c.patchSize
    precondition(images.rank == 4 && images.shape[1] == 3, "input must be [B, 3, H, W], got \(images.shape)")
    precondition(images.shape[2] % p == 0 && images.shape[3] % p == 0, "input \(images.shape[2])x\(images.shape[3]) is not a multiple of the patch size \(p)")
    let b = images.shape[0], d = c.embedDimension
    let gw = images.shape[3] / p, gh = images.shape[2] / p
    var x = patchEmbedding(convStem?(images, training: training) ?? images)  // [B, N, D]
    let prefix = [classToken, distillationToken, registerTokens].compactMap { $0 }.map { $0.broadcast(to: [b, $0.shape[0], d]) }
    let positions = positionTable(gridWidth: gw, gridHeight: gh)  // [T or N, D], broadcast over B
    if c.positionPlacement == .patchesOnly || c.positionEmbedding == .sinCos2D {
      if let positions { x = x + positions }
      if !prefix.isEmpty { x = concat(prefix + [x], axis: 1) }
    } else if c.positionPlacement == .classAndPatches, let positions {
      let first = c.positionPrefixRows, rows = positions.shape[0]
      x = x + positions.sliced(axis: 0, range: first..<rows)
      var tokens = prefix
      if let classToken {
        tokens[0] = (classToken + positions.sliced(axis: 0, range: 0..<first)).broadcast(to: [b, 1, d])
      }
      if !tokens.isEmpty { x = concat(tokens + [x], axis: 1) }
    } else {
      if !prefix.isEmpty { x = concat(prefix + [x], axis: 1) }
      if let positions { x = x + positions }
    }
    if let preNorm { x = preNorm(x) }
    let t = x.shape[1]
    let maskTensor = mask.allowed(prefixTokens: c.prefixTokens, gridWidth: gw, gridHeight: gh).map {
      Tensor.attentionMask(allowed: $0, shape: [t, t])
    }
    var attention: [Tensor] = [], attentionInputs: [Tensor] = [], blockOutputs: [Tensor] = []
    let biases = relativePositionBiases.map { $0.bias(gridWidth: gw, gridHeight: gh) }
    let rotaries = rotaryTables(gridWidth: gw, gridHeight: gh)  // one every block shares, or one per block
    for (i, block) in blocks.enumerated() {
      let bias = biases.isEmpty ? nil : biases[biases.count == 1 ? 0 : i]
      let rotary = rotaries.isEmpty ? nil : rotaries[rotaries.count == 1 ? 0 : i]
      let observe = observeAttention.map { observe in { (qkv: Tensor) in observe(i, qkv) } }
      let weights: Tensor?
      if recordAttentionInputs {
        let tapped = block.tapped(x, mask: maskTensor, bias: bias, rotary: rotary, record: recordAttention, observe: observe)
        x = tapped.output
        weights = tapped.weights
        attentionInputs.append(tapped.normalized)
      } else {
        // No norm1 output kept: the block normalises inside qkv's GEMM instead (same bits).
        let step = block(x, mask: maskTensor, bias: bias, rotary: rotary, record: recordAttention, observe: observe)
        x = step.output
        weights = step.weights
      }
      if let weights { attention.append(weights) }
      if recordBlockOutputs { blockOutputs.append(x) }
    }
    if let norm { x = norm(x) }
    var logits: Tensor?
    var poolAttention: Tensor?
    var pooled: Tensor
    switch c.globalPool {
    case .token: pooled = x.sliced(axis: 1, range: 0..<1).reshaped([b, d])
    case .average: pooled = x.sliced(axis: 1, range: c.prefixTokens..<t).mean(axis: 1)
    case .attention:
      // timm's VisionTransformer pools the patches only (pool_include_prefix is off for MAP
      // heads); Eva pools every token, and the map keeps the patches' columns of its weights.
      guard let attentionPool else { preconditionFailure("globalPool .attention needs an attention-pooling head") }
      let first = c.poolIncludesPrefix ? 0 : c.prefixTokens
      (pooled, poolAttention) = attentionPool(x.sliced(axis: 1, range: first..<t), record: recordAttention || observeAttention != nil)
      if first < c.prefixTokens { poolAttention = poolAttention?.sliced(axis: 3, range: c.prefixTokens..<t) }
    }
    if let fcNorm { pooled = fcNorm(pooled) }
    if let head {
      logits = head(pooled)
      if let headDistillation {
        // timm's VisionTransformerDistilled and transformers' DeiTForImageClassificationWithTeacher
        // average the two heads in eval.
        logits = (logits! + headDistillation(x.sliced(axis: 1, range: 1..<2).reshaped([b, d]))) * 0.5
      }
    }
    return Output(
      logits: logits, tokens: x, attention: attention, pooled: pooled, poolAttention: poolAttention,
      gridWidth: gw, gridHeight: gh, attentionInputs: attentionInputs, blockOutputs: blockOutputs)
  }

  /// The position embeddings added for a `gridWidth × gridHeight` grid: `[prefix + N, D]` or
  /// `[N, D]` as the placement says, resampled from the trained grid when it differs.
  public func positionTable(gridWidth gw: Int, gridHeight gh: Int) -> Tensor? {
    let c = configuration
    let d = c.embedDimension
    switch c.positionEmbedding {
    case .none:
      return nil
    case .sinCos2D:
      return Tensor(shape: [gw * gh, d], scalars: SinCosPositionalEncoding.twoDimensional(gridWidth: gw, gridHeight: gh, dimension: d))
    case .learned:
      guard let table = positionEmbedding else { return nil }
      if gw == c.positionGridWidth && gh == c.positionGridHeight { return table }
      let prefixRows = c.positionPrefixRows
      let values = table.scalars
      let grid = Array(values[(prefixRows * d)...])
      var resampled: [Float]
      if c.positionAspectPreserving {
        // timm's NaFlexEmbeds: F.interpolate to (L, L), L the longer side, then [:gh, :gw].
        let side = max(gw, gh)
        let square = c.positionResampling.resample(grid, from: (c.positionGridHeight, c.positionGridWidth), to: (side, side), dimension: d)
        resampled = (0..<gh).flatMap { y in square[(y * side * d)..<((y * side + gw) * d)] }
      } else {
        resampled = c.positionResampling.resample(grid, from: (c.positionGridHeight, c.positionGridWidth), to: (gh, gw), dimension: d)
      }
      return Tensor(shape: [prefixRows + gw * gh, d], scalars: Array(values[..<(prefixRows * d)]) + resampled)
    }
  }

  /// Names as in timm's `state_dict` (cls_token, reg_token and pos_embed saved with a leading
  /// batch axis of 1 at the checkpoint boundary).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("patch_embed", patchEmbedding)
    if let convStem {
      // timm's HybridEmbed(ConvStem, proj=False): the projection is the stem's last conv.
      out = prefixed("patch_embed.backbone", convStem) + prefixed("patch_embed.backbone.\(convStem.units.count).conv", patchEmbedding.projection)
    }
    if let classToken { out.append(("cls_token", classToken)) }
    if let distillationToken { out.append(("dist_token", distillationToken)) }
    if let registerTokens { out.append(("reg_token", registerTokens)) }
    if let positionEmbedding { out.append(("pos_embed", positionEmbedding)) }
    if let preNorm { out += prefixed("norm_pre", preNorm) }
    for (i, block) in blocks.enumerated() { out += prefixed("blocks.\(i)", block) }
    if let norm { out += prefixed("norm", norm) }
    if let fcNorm { out += prefixed("fc_norm", fcNorm) }
    if let head { out += prefixed("head", head) }
    if let headDistillation { out += prefixed("head_dist", headDistillation) }
    if let attentionPool { out += prefixed("attn_pool", attentionPool) }
    return out
  }
}

extension VisionTransformer: BufferContainer {
  /// A convolutional stem's BatchNorm running statistics (timm names); nothing otherwise.
  public var namedBuffers: [(name: String, tensor: Tensor)] {
    convStem.map { prefixedBuffers("patch_embed.backbone", $0) } ?? []
  }
}
