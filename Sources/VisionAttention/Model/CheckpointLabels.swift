import Foundation

/// Class names a checkpoint's `config.json` carries: timm's `label_names` (a list, as its hub
/// configs and `patch-classify` write them) or Hugging Face's `id2label` (index → name).
enum CheckpointLabels {
  /// The names for a checkpoint at `path` (a file or its folder), when its config has exactly
  /// `classes` of them; nil otherwise, so a mismatched list never mislabels a class.
  static func read(near path: String, classes: Int) -> [String]? {
    guard classes > 0 else { return nil }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
    let config = (folder as NSString).appendingPathComponent("config.json")
    guard let data = FileManager.default.contents(atPath: config),
      let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return nil }
    if let names = json["label_names"] as? [String], names.count == classes { return names }
    if let table = json["id2label"] as? [String: String] {
      let names = (0..<classes).compactMap { table[String($0)] }
      if names.count == classes { return names }
    }
    return nil
  }
}
