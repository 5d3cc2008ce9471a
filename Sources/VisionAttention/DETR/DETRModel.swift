import Foundation
import VAModels

/// A `DetrForObjectDetection` checkpoint folder (`config.json`, `model.safetensors`,
/// `preprocessor_config.json`) loaded for inspection.
public struct DETRModel: Sendable {
  /// The network, its preprocessing and the key layout found.
  public let imported: ImportedDETR
  /// The folder it was loaded from.
  public let path: String
  /// `id2label` from `config.json`, one per class (the no-object class excluded).
  public let classNames: [String]?

  /// Loads the folder `path` (or the folder of a `.safetensors` file in it).
  /// - Throws: `DETR.importCheckpoint`'s `CheckpointError`, naming the file.
  public init(path: String) throws {
    var isDirectory: ObjCBool = false
    let folder = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue ? (path as NSString).deletingLastPathComponent : path
    imported = try DETR.importCheckpoint(from: folder.isEmpty ? "." : folder)
    self.path = path
    classNames = CheckpointLabels.read(near: folder.isEmpty ? "." : folder, classes: imported.model.classes)
  }
}
