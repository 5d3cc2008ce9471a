/// Which picture to draw: `--map`'s values. What each map reads, needs and where it appears
/// is declared once, in its `MapRegistry` entry (`spec`).
public enum MapKind: String, CaseIterable, Sendable {
  /// Class-token attention at `--layer`, per head or fused.
  case cls
  /// Attention rollout through all layers (Abnar & Zuidema 2020).
  case rollout
  /// Attention of the patch under `--query`.
  case query
  /// Grid of every layer × head for the query (or class token).
  case heads
  /// DINO's keep-mass masks with contours.
  case mask
  /// Mean attention distance per head and layer (ViT paper, Figure 7).
  case distance
  /// Cosine similarity of position embeddings (ViT paper, Figure 10).
  case posembed
  /// SAGAN attention over CNN feature maps at `--query` and three more points.
  case sagan
  /// CNN receptive field at `--query`: theoretical box and effective field.
  case rf
  /// Gradient-weighted attention rollout for `--class` (Chefer et al. 2021).
  case gradrollout
  /// Grad-CAM on the last block's first LayerNorm for `--class` (as pytorch-grad-cam).
  case gradcam
  /// Attention × gradient at `--layer` for `--class`, rectified and averaged over heads.
  case attngrad
  /// The patch tokens' first three principal components as RGB (DINOv2/DINOv3's pictures).
  case pca
  /// Every token's L2 norm after each block, high-norm tokens marked (Darcet et al. 2024).
  case norms
  /// DETR's encoder self-attention at `--query`, heads averaged (DETR paper, Figure 3); a
  /// DETR checkpoint's only map, refused for ViT and Swin checkpoints.
  case encoder

  /// The maps that explain a class through the model's gradients (`MapSpec.needsGradients`).
  public var needsGradients: Bool { spec.needsGradients }
}

/// How the input image is sized before it meets the model.
public enum ResizePolicy: String, CaseIterable, Sendable {
  /// Keep aspect ratio, fit the longer side to the model's size (480 for the built-in
  /// model, which enlarges at most 2×), crop to a multiple of the patch size; position embeddings are resampled to the
  /// grid.
  case fit
  /// Use the image at its own size, cropped down to a multiple of the patch size (one
  /// smaller than a patch is enlarged first, nearest neighbour: see `InputGeometry`).
  case none
}

/// What `--dump` keeps of the attention (`--dump-attention`).
public enum DumpAttention: String, CaseIterable, Sendable {
  /// `attn.{l}` `[heads, T, T]`, every weight of every layer.
  case full
  /// `attn_rows.{l}` `[heads, R, T]`, the rows of the R tokens in `attn_rows.tokens` `[R]`
  /// (the class token 0 when the model has one, then the query patch's token).
  case rows
  /// No attention tensors.
  case none
}
