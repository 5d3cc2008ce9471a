import VALayers
import VATensorCore

/// Everything that shapes a Vision Transformer (Dosovitskiy et al. 2021) and its variants in
/// timm and Hugging Face.
public struct ViTConfiguration: Sendable, Equatable {
  /// How positions enter the model.
  public enum PositionEmbeddingKind: String, Sendable, CaseIterable {
    /// Learned absolute embeddings (ViT, DeiT, DINO), resampled when the grid changes.
    case learned
    /// Fixed 2D sin-cos embeddings (MAE / SimpleViT convention; prefix tokens get zeros).
    case sinCos2D
    /// No position information at all (a bag of patches).
    case none
  }

  /// Where learned position embeddings are added.
  public enum PositionPlacement: String, Sendable {
    /// timm's default: concatenate class and register tokens, then add embeddings covering them.
    case includingPrefix
    /// timm's `no_embed_class`: add embeddings to the patches, then concatenate prefix tokens.
    case patchesOnly
    /// Hugging Face's `Dinov2WithRegisters`: the class token and the patches get embeddings
    /// (rows class, then patches), the registers, inserted after the class token, none.
    case classAndPatches
  }

  /// What the classification head reads.
  public enum GlobalPool: String, Sendable {
    /// The class token's final state (timm's `global_pool="token"`, ViT's and DeiT's).
    case token
    /// The mean of the patch tokens, prefix tokens left out (timm's `global_pool="avg"`, MAE).
    case average
    /// Multi-head attention pooling over the patches (timm's `AttentionPoolLatent`, SigLIP's
    /// "MAP" head): one learned query attends to every token.
    case attention
  }

  /// The patch side `P` in pixels (timm's `patch_size`).
  public var patchSize: Int
  /// The token width `D` (timm's `embed_dim`).
  public var embedDimension: Int
  /// The number of transformer blocks.
  public var depth: Int
  /// Attention heads per block; `D` divides into them.
  public var headCount: Int
  /// The MLP's hidden width (4·D unless `mlp_ratio` says otherwise).
  public var mlpHiddenDimension: Int
  /// A learned class token before the patches (timm's `class_token`).
  public var classToken = true
  /// DeiT's distillation token (Touvron et al. 2021), right after the class token; its own
  /// head's logits are averaged with the class head's, as timm and transformers do in eval.
  public var distillationToken = false
  /// Register tokens after the class token (Darcet et al. 2024, "Vision Transformers Need Registers").
  public var registerTokens = 0
  /// How positions enter the model.
  public var positionEmbedding = PositionEmbeddingKind.learned
  /// Where learned position embeddings are added.
  public var positionPlacement = PositionPlacement.includingPrefix
  /// Grid the learned position embeddings were trained at (columns, rows).
  public var positionGridWidth: Int
  /// Rows of that grid.
  public var positionGridHeight: Int
  /// How the learned grid is resized for another input size (timm's or Hugging Face's convention).
  public var positionResampling = PositionResampling.timm
  /// timm NaFlexVit's `pos_embed_ar_preserving`: the table is resized to a square of the
  /// grid's longer side, then its top-left `rows × columns` kept (aspect ratio preserved).
  public var positionAspectPreserving = false
  /// What the classification head reads.
  public var globalPool = GlobalPool.token
  /// LayerNorm on the pooled features (timm's `fc_norm`) instead of on every token.
  public var fcNorm = false
  /// LayerNorm before the blocks (timm's `norm_pre`, used by CLIP-style ViTs).
  public var preNorm = false
  /// LayerScale on both residual branches of every block (CaiT, DINOv2; timm's `init_values`).
  public var layerScale = false
  /// BEiT's relative position bias on every block's attention scores, for a window of the
  /// trained grid (`positionGridWidth × positionGridHeight`), resampled for other grids.
  public var relativePositionBias = false
  /// EVA-02's rotary position embedding on every block's q and k, or nil.
  public var rotary: RotaryPositions?
  /// The MLP's activation (quick GELU for OpenAI CLIP weights, tanh GELU for SigLIP).
  public var activation = GELUApproximation.exact
  /// Heads of the attention-pooling head (`globalPool == .attention`); the blocks' by default.
  public var poolHeadCount: Int?
  /// The attention-pooling head reads the prefix tokens too (timm's `Eva`, Perception
  /// Encoder); timm's `VisionTransformer` and SigLIP pool the patches only.
  public var poolIncludesPrefix = false
  /// A convolutional stem in place of the patchify layer (its total stride is `patchSize`).
  public var convStem: ConvStemShape?
  /// NaFlex input sizing (Hugging Face's `Siglip2ImageProcessor`): the most patches an image
  /// is resized to, keeping its aspect ratio, each side a multiple of the patch size
  /// (`max_num_patches`); nil for a model sized by `imageWidth × imageHeight`.
  public var maximumPatches: Int?
  /// The longer side the `fit` policy resizes to when it is not the position table's
  /// (`imageWidth`, `imageHeight`): a NaFlexVit checkpoint's `pretrained_cfg` input size,
  /// its table being only the grid positions are resized from.
  public var fitSide: Int?
  /// 0 means no classification head.
  public var classCount = 1000
  /// timm uses 1e-6, Hugging Face 1e-12 (AIMv2's RmsNorm 1e-5); the eps of every norm.
  public var layerNormEps: Float = 1e-6
  /// Which normalisation every norm of the model computes (timm's `norm_layer`: LayerNorm, or
  /// RmsNorm for AIMv2); the one place the kind is decided.
  public var normKind = LayerNorm.Kind.layer
  /// A norm on the patch tokens right after the projection, before the position embedding
  /// (timm's `embed_norm_layer`, `patch_embed.norm`; AIMv2).
  public var embedNorm = false
  /// Default input size in pixels (the grid times the patch size).
  public var imageWidth: Int { positionGridWidth * patchSize }
  /// Default input height in pixels.
  public var imageHeight: Int { positionGridHeight * patchSize }
  /// Input normalisation.
  public var mean: [Float] = [0.5, 0.5, 0.5]
  /// Per-channel divisor after subtracting `mean` (0.5 for timm's Inception normalisation).
  public var std: [Float] = [0.5, 0.5, 0.5]

  /// A plain ViT (class token, learned positions, token pooling, 1000 classes) for square
  /// `imageSize` inputs; a precondition checks that `embedDimension` divides into `headCount` heads.
  public init(patchSize: Int, embedDimension: Int, depth: Int, headCount: Int, mlpHiddenDimension: Int? = nil, imageSize: Int = 224) {
    precondition(embedDimension % headCount == 0, "embed dimension \(embedDimension) does not divide into \(headCount) heads")
    self.patchSize = patchSize
    self.embedDimension = embedDimension
    self.depth = depth
    self.headCount = headCount
    self.mlpHiddenDimension = mlpHiddenDimension ?? 4 * embedDimension
    positionGridWidth = imageSize / patchSize
    positionGridHeight = imageSize / patchSize
  }

  /// Class token, distillation token and registers.
  public var prefixTokens: Int { (classToken ? 1 : 0) + (distillationToken ? 1 : 0) + registerTokens }

  /// Rows of the learned position-embedding table.
  public var positionEmbeddingRows: Int {
    positionGridWidth * positionGridHeight + positionPrefixRows
  }

  /// Rows of the position table before the patches' rows.
  public var positionPrefixRows: Int {
    switch positionPlacement {
    case .includingPrefix: prefixTokens
    case .patchesOnly: 0
    case .classAndPatches: classToken ? 1 : 0
    }
  }
}

extension ViTConfiguration {
  /// The standard sizes (Dosovitskiy et al. 2021 Table 1; Touvron et al. 2021 for Ti and S).
  public enum Size: String, Sendable, CaseIterable {
    /// ViT-Ti (D 192, 12 blocks, 3 heads), ViT-S (384, 12, 6), ViT-B (768, 12, 12) and
    /// ViT-L (1024, 24, 16); the raw value is the name's letter (`ViT-B/16`).
    case tiny = "Ti", small = "S", base = "B", large = "L"

    var dimensions: (embed: Int, depth: Int, heads: Int) {
      switch self {
      case .tiny: (192, 12, 3)
      case .small: (384, 12, 6)
      case .base: (768, 12, 12)
      case .large: (1024, 24, 16)
      }
    }
  }

  /// ViT-{Ti,S,B,L}/{patch} at 224 pixels with 1000 classes, timm's defaults (class token,
  /// learned embeddings, eps 1e-6, ImageNet Inception normalisation 0.5/0.5).
  public static func preset(_ size: Size, patchSize: Int, imageSize: Int = 224) -> ViTConfiguration {
    let d = size.dimensions
    return ViTConfiguration(patchSize: patchSize, embedDimension: d.embed, depth: d.depth, headCount: d.heads, imageSize: imageSize)
  }

  /// Parameters the configuration implies (what timm's model.parameters() counts).
  public var parameterCount: Int {
    let d = embedDimension, h = mlpHiddenDimension
    let norm = normKind == .rms ? d : 2 * d  // RMSNorm has no bias
    let block =
      norm  // norm1
      + 3 * d * d + 3 * d + d * d + d  // qkv, proj
      + norm  // norm2
      + d * h + h + h * d + d  // fc1, fc2
      + (layerScale ? 2 * d : 0)
    var total = convStem?.parameterCount(width: d) ?? (3 * patchSize * patchSize * d + d)  // patch embedding
    total += (classToken ? d : 0) + registerTokens * d
    if positionEmbedding == .learned { total += positionEmbeddingRows * d }
    total += depth * block
    total += (preNorm ? norm : 0) + norm + (embedNorm ? norm : 0)  // norm_pre, final norm or fc_norm, patch_embed.norm
    if classCount > 0 { total += d * classCount + classCount }
    return total
  }
}
