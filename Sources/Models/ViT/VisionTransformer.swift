import Layers
import TensorCore

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

  /// What one forward pass produced.
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

  /// Runs the model.
  /// - Parameters:
  ///   - image: normalised `[3, H, W]`.
  ///   - mask: which keys each query may see (full by default).
  ///   - recordAttention: keep every layer's attention weights; the output is identical
  ///     either way.
  public func callAsFunction(_ image: Tensor, mask: AttentionMask = .full, recordAttention: Bool = false) -> Output {
    let c = configuration
    let p = c.patchSize
    precondition(image.rank == 3 && image.shape[0] == 3, "input must be [3, H, W], got \(image.shape)")
    precondition(image.shape[1] % p == 0 && image.shape[2] % p == 0, "input \(image.shape[1])x\(image.shape[2]) is not a multiple of the patch size \(p)")
    let gw = image.shape[2] / p, gh = image.shape[1] / p
    var x = patchEmbedding(image)  // [N, D]
    let prefix = [classToken, registerTokens].compactMap { $0 }
    let positions = positionTable(gridWidth: gw, gridHeight: gh)
    if c.positionPlacement == .patchesOnly || c.positionEmbedding == .sinCos2D {
      if let positions { x = x + positions }
      if !prefix.isEmpty { x = concat(prefix + [x], axis: 0) }
    } else {
      if !prefix.isEmpty { x = concat(prefix + [x], axis: 0) }
      if let positions { x = x + positions }
    }
    if let preNorm { x = preNorm(x) }
    let maskTensor = mask.allowed(prefixTokens: c.prefixTokens, gridWidth: gw, gridHeight: gh).map {
      Tensor.attentionMask(allowed: $0, shape: [x.shape[0], x.shape[0]])
    }
    var attention: [Tensor] = []
    for block in blocks {
      let (next, weights) = block(x, mask: maskTensor, record: recordAttention)
      x = next
      if let weights { attention.append(weights) }
    }
    if let norm { x = norm(x) }
    var logits: Tensor?
    if let head {
      var pooled = c.globalPool == .token
        ? x.sliced(axis: 0, range: 0..<1).reshaped([c.embedDimension])
        : x.sliced(axis: 0, range: c.prefixTokens..<x.shape[0]).mean(axis: 0)
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
