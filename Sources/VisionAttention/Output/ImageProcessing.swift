/// One image through a model to its outputs (figure, page, dump), whatever the model family:
/// what a folder run (`BatchRun`) drives. `Pipeline` does it for vision transformers, in
/// stages a batch run overlaps; `SwinPipeline` and `DETRPipeline` for their families, one
/// image at a time.
public protocol ImageProcessing: Sendable {
  /// The `--map` drawn (nil: the family's default figure), for index records.
  var map: MapKind? { get }
  /// Reads `path`, runs the model and writes `outputs`, each through a temporary file and a
  /// rename; returns the numbers an index records.
  func process(_ path: String, outputs: Pipeline.Outputs) throws -> ImageSummary?
}

extension Pipeline: ImageProcessing {
  /// The `--map` the settings draw.
  public var map: MapKind? { settings.map }
}
