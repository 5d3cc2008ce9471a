import ArgumentParser

/// Which picture `vit-attend` draws.
enum MapKind: String, CaseIterable, ExpressibleByArgument {
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
}

/// How the input image is sized before it meets the model.
enum ResizePolicy: String, CaseIterable, ExpressibleByArgument {
  /// Keep aspect ratio, fit the longer side to the model's size (480 for the default model),
  /// crop to a multiple of the patch size; position embeddings are resampled to the grid.
  case fit
  /// Use the image at its own size, cropped down to a multiple of the patch size.
  case none
}

/// What `--dump` keeps of the attention (`--dump-attention`).
enum DumpAttention: String, CaseIterable, ExpressibleByArgument {
  /// `attn.{l}` `[heads, T, T]`, every weight of every layer.
  case full
  /// `attn_rows.{l}` `[heads, R, T]`, the rows of the R tokens in `attn_rows.tokens` `[R]`
  /// (the class token 0 when the model has one, then the query patch's token).
  case rows
  /// No attention tensors.
  case none
}

/// What `--out-dir` holds: one PNG figure or one interactive HTML page per image.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
  case png
  case html
}
