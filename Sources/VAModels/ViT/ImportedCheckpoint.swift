/// A loaded checkpoint and what the loader had to infer because no file said it.
public struct ImportedCheckpoint: Sendable {
  /// The model with the checkpoint's weights, ready for inference.
  public var model: VisionTransformer
  /// Which naming the file used (timm, Hugging Face or open_clip).
  public var layout: CheckpointLayout
  /// One sentence per inferred setting (heads, normalisation, input size), for stderr and
  /// figure captions; empty when the files said everything.
  public var inferred: [String]
}
