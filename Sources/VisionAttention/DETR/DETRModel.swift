import Foundation
import VAImageIO
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
  /// How the image is resized, as `AutoImageProcessor` would pick it from
  /// `preprocessor_config.json` (`resample`, `image_processor_type`, `do_resize`).
  public let resizing: DETRResizing

  /// Loads the folder `path` (or the folder of a `.safetensors` file in it).
  /// - Throws: `DETR.importCheckpoint`'s `CheckpointError`, naming the file; also
  ///   `CheckpointError.badConfig` for preprocessing this loader does not reproduce.
  public init(path: String) throws {
    var isDirectory: ObjCBool = false
    let folder = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue ? (path as NSString).deletingLastPathComponent : path
    imported = try DETR.importCheckpoint(from: folder.isEmpty ? "." : folder)
    self.path = path
    classNames = CheckpointLabels.read(near: folder.isEmpty ? "." : folder, classes: imported.model.classes)
    resizing = try DETRResizing(preprocessorConfig: ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent("preprocessor_config.json"))
  }
}

/// How transformers 5.25's `AutoImageProcessor` resizes for a DETR folder: the torchvision
/// `DetrImageProcessor` by default (also for the hub's `DetrFeatureExtractor` form), or
/// `DetrImageProcessorPil` when the file names it; `resample` 2 (bilinear, the default) or
/// 3 (bicubic); `do_resize: false` keeps the image's size.
public struct DETRResizing: Sendable, Equatable {
  /// Whose resampling: torchvision's uint8 kernels (`Image.torchvisionResized`) or Pillow's
  /// (`Image.resized`).
  public enum Backend: Sendable, Equatable { case torchvision, pillow }
  /// The backend.
  public var backend: Backend
  /// `.bilinear` or `.bicubic`.
  public var filter: ResizeFilter
  /// `do_resize`.
  public var resizes: Bool

  /// DetrImageProcessor's defaults.
  public static let standard = DETRResizing(backend: .torchvision, filter: .bilinear, resizes: true)

  /// Settings as given.
  public init(backend: Backend, filter: ResizeFilter, resizes: Bool) {
    (self.backend, self.filter, self.resizes) = (backend, filter, resizes)
  }

  /// The settings `path` declares (the defaults when it is missing). Refused by name, as
  /// not reproduced here: another `resample`, `do_normalize` or `do_rescale` false, a
  /// `rescale_factor` other than 1/255, another processor class.
  public init(preprocessorConfig path: String) throws(CheckpointError) {
    self = .standard
    guard let data = FileManager.default.contents(atPath: path) else { return }
    guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw .badConfig(path: path, reason: "not a JSON object") }
    if let type = json["image_processor_type"] as? String {
      switch type {
      case "DetrImageProcessor", "DetrImageProcessorFast": backend = .torchvision
      case "DetrImageProcessorPil": backend = .pillow
      default: throw .badConfig(path: path, reason: "image_processor_type '\(type)' is not reproduced (DetrImageProcessor or DetrImageProcessorPil)")
      }
    }
    if let resample = json["resample"] {
      switch resample as? Int {
      case 2: filter = .bilinear
      case 3: filter = .bicubic
      default: throw .badConfig(path: path, reason: "resample \(resample) is not reproduced (2, bilinear, or 3, bicubic)")
      }
    }
    if let resize = json["do_resize"] as? Bool { resizes = resize }
    for key in ["do_normalize", "do_rescale"] where json[key] as? Bool == false {
      throw .badConfig(path: path, reason: "\(key) false is not reproduced (DETR's weights expect normalised input)")
    }
    if let factor = json["rescale_factor"] as? Double, abs(factor - 1.0 / 255) > 1e-12 {
      throw .badConfig(path: path, reason: "rescale_factor \(factor) is not reproduced (1/255)")
    }
  }
}
