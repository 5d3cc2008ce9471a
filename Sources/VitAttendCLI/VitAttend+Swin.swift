import VisionAttention

extension VitAttend {
  /// The pipeline that draws a Swin checkpoint with the options given.
  func swinPipeline(_ swin: SwinModel, settings: FigureSettings) throws -> any ImageProcessing {
    throw VisionAttentionError.notForFamily(what: "vit-attend's figures", family: "Swin", reason: "not drawn yet")
  }
}
