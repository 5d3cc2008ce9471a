import VisionAttention

extension VitAttend {
  /// The pipeline that draws a Swin checkpoint with the options given. Options that only a
  /// ViT's outputs read are refused by name (`VisionAttentionError.notForFamily`); `--map`,
  /// `--layer` (a block, counted through the stages), `--head`, `--fuse`, `--query`, `--cnn`,
  /// `--class` (gradcam) and the appearance options apply.
  func swinPipeline(_ swin: SwinModel, settings: FigureSettings) throws -> any ImageProcessing {
    let refused: [(option: String, given: Bool, reason: String)] = [
      ("--per-head", output.perHead, "Swin's heads differ per stage; use --map heads"),
      ("--dump-attention rows", output.dumpAttention == .rows, "a Swin dump keeps whole windows, [windows, heads, N, N] per block"),
      ("--pca-from", maps.pcaFrom != nil, "--map pca is a ViT map"),
      ("--foreground", maps.foreground != nil, "--map pca is a ViT map"),
      ("--norm-factor", maps.normFactor != nil, "--map norms is a ViT map"),
      ("--keep", maps.keep != nil, "--map mask reads a class token"),
      ("--discard-ratio", maps.discardRatio != nil, "Swin's rollout keeps every weight of a window"),
      ("--cnn-weights", model.cnnWeights != nil, "the CNN Grad-CAM panel is drawn beside a ViT's figures"),
      ("--target-embedding", maps.targetEmbedding != nil, "Swin's Grad-CAM explains a class of its classifier (--class)"),
    ]
    try refuseGiven(refused, family: "Swin")
    return try SwinPipeline(swin: swin, input: inputSettings, settings: settings)
  }

  /// `--faithfulness` scores a ViT's maps by deleting and inserting patches: a Swin
  /// checkpoint is refused by name, from its header alone, before any image is read.
  func refuseFaithfulnessForSwin() throws {
    if let weights = model.weights, SwinTransformer.isSwinCheckpoint(at: weights) {
      throw VisionAttentionError.notForFamily(
        what: "--faithfulness", family: "Swin", reason: "it scores a vision transformer's maps; draw Swin's with --map rollout or gradcam")
    }
  }

  /// Refuses, by name, the first of `options` that was given for a `family` checkpoint: each
  /// entry is the option as the user wrote it, whether it was given, and why the family does
  /// not read it.
  /// - Throws: `VisionAttentionError.notForFamily` naming the option.
  func refuseGiven(_ options: [(option: String, given: Bool, reason: String)], family: String) throws(VisionAttentionError) {
    if let first = options.first(where: \.given) { throw .notForFamily(what: first.option, family: family, reason: first.reason) }
  }
}
