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
  /// The input size the model was trained at, `(height, width)` in pixels: timm's
  /// `pretrained_cfg.input_size`, else transformers' `preprocessor_config.json` `size`
  /// (`height`/`width` or `shortest_edge`), else `config.json`'s `image_size`, else 224.
  public let inputSize: (height: Int, width: Int)

  /// Loads `path`: a `.safetensors` file or a folder holding one.
  /// - Throws: `SwinTransformer.load`'s `CheckpointError`, naming the file.
  public init(path: String) throws {
    model = try SwinTransformer.load(from: path)
    self.path = path
    classNames = CheckpointLabels.read(near: path, classes: model.head?.outputs ?? 0)
    inputSize = Self.trainedSize(near: path) ?? (224, 224)
  }

  /// Whether the checkpoint came from timm: it refuses inputs that are not a multiple of the
  /// patch (`strict_img_size`), where transformers pads them.
  public var isTimm: Bool { model.configuration.windowPolicy == .timm }

  /// Named in captions and PNG text chunks: the checkpoint's folder (or file, when it is not
  /// the hub's `model.safetensors`) name, its version and layout.
  public var name: String {
    let c = model.configuration
    let last = (path as NSString).lastPathComponent
    let shown = last == "model.safetensors" ? ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent : last
    return "\(shown) (Swin v\(c.version.rawValue), \(isTimm ? "timm" : "transformers") layout)"
  }

  /// The trained size from the configs beside `path`, when they state one.
  static func trainedSize(near path: String) -> (height: Int, width: Int)? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
    func json(_ name: String) -> [String: Any]? {
      guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)) else { return nil }
      return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
    let config = json("config.json")
    if let size = (config?["pretrained_cfg"] as? [String: Any])?["input_size"] as? [Int], size.count == 3 { return (size[1], size[2]) }
    if let size = json("preprocessor_config.json")?["size"] as? [String: Int] {
      if let h = size["height"], let w = size["width"] { return (h, w) }
      if let s = size["shortest_edge"] { return (s, s) }
    }
    if let s = config?["image_size"] as? Int { return (s, s) }
    if let s = config?["image_size"] as? [Int], s.count == 2 { return (s[0], s[1]) }
    return nil
  }
}
