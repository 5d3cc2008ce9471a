import VAModels

/// A loaded checkpoint of any family vit-attend draws, each with its own pipeline: vision
/// transformers (`LoadedModel`, every ViT map), Swin (windowed attention) and DETR (object
/// queries). `ModelSource.loadFamily()` returns it; `ModelSource.load()` is the ViT-only path
/// (gradient maps, `--faithfulness`, library users of `InspectableModel`).
public enum LoadedFamily: Sendable {
  /// A vision transformer or the built-in model.
  case vit(LoadedModel)
  /// A Swin or Swin V2 checkpoint (timm or Hugging Face layout).
  case swin(SwinModel)
  /// A `DetrForObjectDetection` checkpoint folder.
  case detr(DETRModel)

  /// The family's name, for messages: "ViT", "Swin" or "DETR".
  public var familyName: String {
    switch self {
    case .vit: "ViT"
    case .swin: "Swin"
    case .detr: "DETR"
    }
  }
}

extension ModelSource {
  /// Loads the checkpoint whatever its family, picked from its tensor names (headers only):
  /// Swin, DETR, else a vision transformer (or the built-in model without `weights`).
  /// - Throws: the loader's `CheckpointError` or `SafetensorsError`, naming the file.
  public func loadFamily() throws -> LoadedFamily {
    guard let weights else { return .vit(try load()) }
    if SwinTransformer.isSwinCheckpoint(at: weights) { return .swin(try SwinModel(path: weights)) }
    if DETR.isDETRCheckpoint(at: weights) { return .detr(try DETRModel(path: weights)) }
    return .vit(try load())
  }
}
