import VALayers
import VATensorCore

/// A Vision Transformer (Dosovitskiy et al. 2021) that reproduces timm's `VisionTransformer`
/// and Hugging Face's `ViTModel` / `ViTForImageClassification` in inference.
///
/// Shapes: the input is a normalised image `[3, H, W]` with `H`, `W` multiples of the patch
/// size (any grid, square or not); tokens are `[T, D]` with `T = prefix + N`, in the model's
/// order: class token, registers, patches row-major.
public struct VisionTransformer: ParameterContainer, Sendable {
  public var configuration: ViTConfiguration
  public var patchEmbedding: PatchEmbedding
  public var classToken: Tensor?       // [1, D]
  public var registerTokens: Tensor?   // [R, D]
  public var positionEmbedding: Tensor? // [rows, D], learned only
  public var preNorm: LayerNorm?
  public var blocks: [TransformerBlock]
  public var norm: LayerNorm?
  public var fcNorm: LayerNorm?
  public var head: Linear?

  /// What one forward pass produced. For a batch every tensor has a leading `[B]` axis.
  public struct Output: Sendable {
    /// `[classes]`, when the model has a head.
    public var logits: Tensor?
    /// Final tokens `[T, D]` (after the final norm when the model has one).
    public var tokens: Tensor
    /// Per layer, post-softmax attention `[heads, T, T]`, when recorded.
    public var attention: [Tensor]
    public var gridWidth: Int
    public var gridHeight: Int
  }

  /// Runs the model on one image.
  /// - Parameters:
  ///   - image: normalised `[3, H, W]`.
  ///   - mask: which keys each query may see (full by default).
  ///   - recordAttention: keep every layer's attention weights `[heads, T, T]`; the output
  ///     is the same either way up to float rounding (without it attention runs tiled, in
  ///     O(T·C) memory).
  ///   - observeAttention: called per layer with the layer index and its fused `qkv`
  ///     projection `[B, T, 3C]` (see `MultiHeadSelfAttention`): how a caller records chosen
  ///     attention rows, or queries and keys, without every `[heads, T, T]`.
  public func callAsFunction(
    _ image: Tensor, mask: AttentionMask = .full, recordAttention: Bool = false,
    observeAttention: ((_ layer: Int, _ qkv: Tensor) -> Void)? = nil
  ) -> Output {
    precondition(image.rank == 3 && image.shape[0] == 3, "input must be [3, H, W], got \(image.shape)")
    var out = callAsFunction(batch: image.unsqueezed(0), mask: mask, recordAttention: recordAttention, observeAttention: observeAttention)
    out.logits = out.logits?.squeezed(0)
    out.tokens = out.tokens.squeezed(0)
    out.attention = out.attention.map { $0.squeezed(0) }
    return out
  }

  /// Runs the model on a batch of same-sized images `[B, 3, H, W]`: every matrix product
  /// covers the whole batch (what training needs for speed). Outputs are `[B, …]`.
  public func callAsFunction(
    batch images: Tensor, mask: AttentionMask = .full, recordAttention: Bool = false,
    observeAttention: ((_ layer: Int, _ qkv: Tensor) -> Void)? = nil
  ) -> Output {
    let c = configuration
    let p = c.patchSize
    precondition(images.rank == 4 && images.shape[1] == 3, "input must be [B, 3, H, W], got \(images.shape)")
    precondition(images.shape[2] % p == 0 && images.shape[3] % p == 0, "input \(images.shape[2])x\(images.shape[3]) is not a multiple of the patch size \(p)")
    let b = images.shape[0], d = c.embedDimension
    let gw = images.shape[3] / p, gh = images.shape[2] / p
    var x = patchEmbedding(images)  // [B, N, D]
    let prefix = [classToken, registerTokens].compactMap { $0 }.map { $0.broadcast(to: [b, $0.shape[0], d]) }
    let positions = positionTable(gridWidth: gw, gridHeight: gh)  // [T or N, D], broadcast over B
    if c.positionPlacement == .patchesOnly || c.positionEmbedding == .sinCos2D {
      if let positions { x = x + positions }
      if !prefix.isEmpty { x = concat(prefix + [x], axis: 1) }
    } else {
      if !prefix.isEmpty { x = concat(prefix + [x], axis: 1) }
      if let positions { x = x + positions }
    }
    if let preNorm { x = preNorm(x) }
    let t = x.shape[1]
    let maskTensor = mask.allowed(prefixTokens: c.prefixTokens, gridWidth: gw, gridHeight: gh).map {
      Tensor.attentionMask(allowed: $0, shape: [t, t])
    }
    var attention: [Tensor] = []
    for (index, block) in blocks.enumerated() {
      let observe = observeAttention.map { observe in { (qkv: Tensor) in observe(index, qkv) } }
      let (next, weights) = block(x, mask: maskTensor, record: recordAttention, observe: observe)
      x = next
      if let weights { attention.append(weights) }
    }
    if let norm { x = norm(x) }
    var logits: Tensor?
    if let head {
      var pooled = c.globalPool == .token
        ? x.sliced(axis: 1, range: 0..<1).reshaped([b, d])
        : x.sliced(axis: 1, range: c.prefixTokens..<t).mean(axis: 1)
      if let fcNorm { pooled = fcNorm(pooled) }
      logits = head(pooled)
    }
    return Output(logits: logits, tokens: x, attention: attention, gridWidth: gw, gridHeight: gh)
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
      let prefixRows = c.positionPlacement == .includingPrefix ? c.prefixTokens : 0
      let values = table.scalars
      let grid = Array(values[(prefixRows * d)...])
      let resampled = c.positionResampling.resample(
        grid, from: (c.positionGridHeight, c.positionGridWidth), to: (gh, gw), dimension: d)
      return Tensor(shape: [prefixRows + gw * gh, d], scalars: Array(values[..<(prefixRows * d)]) + resampled)
    }
  }

  /// Names as in timm's `state_dict` (cls_token, reg_token and pos_embed saved with a leading
  /// batch axis of 1 at the checkpoint boundary).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("patch_embed", patchEmbedding)
    if let classToken { out.append(("cls_token", classToken)) }
    if let registerTokens { out.append(("reg_token", registerTokens)) }
    if let positionEmbedding { out.append(("pos_embed", positionEmbedding)) }
    if let preNorm { out += prefixed("norm_pre", preNorm) }
    for (i, block) in blocks.enumerated() { out += prefixed("blocks.\(i)", block) }
    if let norm { out += prefixed("norm", norm) }
    if let fcNorm { out += prefixed("fc_norm", fcNorm) }
    if let head { out += prefixed("head", head) }
    return out
  }
}
