import Foundation
import VAModels

/// A Swin or Swin V2 checkpoint (timm `swin_*`/`swinv2_*`, Hugging Face `SwinModel`,
/// `Swinv2Model` and their classifiers) loaded for inspection.
public struct SwinModel: Sendable {
  /// The network with its loaded weights.
  public let model: SwinTransformer
  /// The file or folder it was loaded from.
  public let path: String
  /// Class labels from `config.json` (`label_names` or `id2label`), one per classifier output.
  public let classNames: [String]?

  /// Loads `path`: a `.safetensors` file or a folder holding one.
  /// - Throws: `SwinTransformer.load`'s `CheckpointError`, naming the file.
  public init(path: String) throws {
    model = try SwinTransformer.load(from: path)
    self.path = path
    classNames = CheckpointLabels.read(near: path, classes: model.head?.outputs ?? 0)
  }
}
