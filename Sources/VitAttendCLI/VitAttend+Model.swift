import Foundation
import VisionAttention

extension VitAttend {
  /// The model every path runs (figures, pages, folder runs, dumps, `--faithfulness`): the
  /// one place the model options (`--weights`, `--head-count`, `--mean`, `--std`) become a
  /// model, so each path honours them alike. What the loader had to guess changes the
  /// numbers, so it is said on stderr here (and named in every caption).
  func loadModel() throws -> LoadedModel {
    let overrides = CheckpointOverrides(headCount: model.headCount, mean: model.mean?.values, std: model.std?.values)
    let loaded = try ModelSource(weights: model.weights, overrides: overrides).load()
    for note in loaded.inferred { FileHandle.standardError.write(Data("vit-attend: warning: \(note)\n".utf8)) }
    return loaded
  }

  /// `loadModel()` for every family: the checkpoint's tensor names pick Swin, DETR or a ViT.
  func loadFamily() throws -> LoadedFamily {
    let overrides = CheckpointOverrides(headCount: model.headCount, mean: model.mean?.values, std: model.std?.values)
    let family = try ModelSource(weights: model.weights, overrides: overrides).loadFamily()
    if case .vit(let loaded) = family {
      for note in loaded.inferred { FileHandle.standardError.write(Data("vit-attend: warning: \(note)\n".utf8)) }
    }
    return family
  }
}
