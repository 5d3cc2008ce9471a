import VisionAttention

extension VitAttend {
  /// The pipeline that draws a DETR checkpoint with the options given: DETR's Figure 6 (each
  /// detection above `--score` with its query's cross-attention) or, with `--map encoder`,
  /// Figure 3. Options that describe another family's model or figure are refused by name.
  /// - Throws: `VisionAttentionError.notForFamily` naming the option, or `DETRPipeline`'s
  ///   refusals.
  func detrPipeline(_ detr: DETRModel, settings: FigureSettings) throws -> any ImageProcessing {
    let refused: [(option: String, given: Bool, reason: String)] = [
      ("--query", maps.query != nil && maps.map != .encoder, "the default figure draws every detection; --query picks the point of --map encoder"),
      ("--cnn", maps.cnn != nil, "DETR's figures have no CNN receptive-field panel"),
      ("--cnn-weights", model.cnnWeights != nil, "DETR's figures have no Grad-CAM panel"),
      ("--head-count", model.headCount != nil, "the heads come from config.json"),
      ("--mean", model.mean != nil, "the normalisation comes from preprocessor_config.json"),
      ("--std", model.std != nil, "the normalisation comes from preprocessor_config.json"),
      ("--batch-size", model.batchSize != nil, "DETR runs one image at a time"),
      ("--keep", maps.keep != nil, "it applies to --map mask of a ViT"),
      ("--discard-ratio", maps.discardRatio != nil, "it applies to --map rollout of a ViT"),
      ("--foreground", maps.foreground != nil, "it applies to --map pca of a ViT"),
      ("--pca-from", maps.pcaFrom != nil, "it applies to --map pca of a ViT"),
      ("--norm-factor", maps.normFactor != nil, "it applies to --map norms of a ViT"),
    ]
    try refuseGiven(refused, family: "DETR")
    return try DETRPipeline(model: detr, input: inputSettings, settings: settings, scoreThreshold: Float(maps.score ?? 0.7))
  }

  /// Refuses, for a `family` checkpoint other than DETR, the options only DETR reads:
  /// `--map encoder` and `--score`.
  /// - Throws: `VisionAttentionError.notForFamily` naming the option.
  func refuseDETROptions(family: String) throws(VisionAttentionError) {
    if maps.map == .encoder {
      throw .notForFamily(what: "--map encoder", family: family, reason: "it draws a DETR checkpoint's encoder self-attention (DETR's Figure 3); for attention at a point use --map query")
    }
    if maps.score != nil { throw .notForFamily(what: "--score", family: family, reason: "it picks a DETR checkpoint's detections") }
  }
}
