import VisionAttention

extension VitAttend {
  /// The pipeline that draws a DETR checkpoint with the options given.
  func detrPipeline(_ detr: DETRModel, settings: FigureSettings) throws -> any ImageProcessing {
    throw VisionAttentionError.notForFamily(what: "vit-attend's figures", family: "DETR", reason: "not drawn yet")
  }
}
