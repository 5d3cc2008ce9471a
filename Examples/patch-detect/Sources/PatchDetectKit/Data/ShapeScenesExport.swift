import Foundation
import VAImageIO

/// Writes ShapeScenes as a COCO detection folder (`annotations.json`, `images/NNNNNN.png`),
/// so this example (and any other detection tool) trains on them with no data of its own.
public enum ShapeScenesExport {
  /// Why an export did not happen.
  public enum Failure: Error, Equatable, CustomStringConvertible {
    /// The folder exists and is not empty: exports never overwrite.
    case notEmpty(path: String)
    /// Writing failed (nothing was left at the destination).
    case writeFailed(path: String, reason: String)

    public var description: String {
      switch self {
      case .notEmpty(let path): "\(path): exists and is not empty; export scenes into a new folder"
      case .writeFailed(let path, let reason): "\(path): cannot write: \(reason)"
      }
    }
  }

  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct File: Encodable {
    struct ImageEntry: Encodable {
      var id: Int, file_name: String, width: Int, height: Int
    }
    struct Annotation: Encodable {
      var id: Int, image_id: Int, category_id: Int, bbox: [Double], area: Double, iscrowd: Int
    }
    var info: [String: String]
    var images: [ImageEntry]
    var annotations: [Annotation]
    var categories: [COCOAnnotations.Category]
  }

  /// Scenes `first ..< first + count` of `scenes`, as a folder at `folder`: written into a
  /// sibling temporary folder, then renamed, so an interrupted export leaves nothing behind.
  /// Category ids are `k + 1` for class `k` (COCO's ids start at 1), named as `ShapeKind`.
  /// - Throws: `Failure.notEmpty` when `folder` holds anything, `.writeFailed` otherwise.
  public static func write(_ scenes: ShapeScenes, count: Int, first: Int = 0, to folder: String) throws(Failure) {
    let manager = FileManager.default
    if let contents = try? manager.contentsOfDirectory(atPath: folder), !contents.isEmpty { throw .notEmpty(path: folder) }
    if manager.fileExists(atPath: folder), (try? manager.contentsOfDirectory(atPath: folder)) == nil { throw .notEmpty(path: folder) }
    let trimmed = folder.hasSuffix("/") && folder.count > 1 ? String(folder.dropLast()) : folder
    let temporary = trimmed + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
    do {
      try? manager.removeItem(atPath: temporary)
      try manager.createDirectory(atPath: temporary + "/images", withIntermediateDirectories: true)
      var file = File(
        info: ["description": "ShapeScenes (patch-detect --export-scenes), seed \(scenes.seed), scenes \(first)..<\(first + count)"],
        images: [], annotations: [],
        categories: ShapeScenes.classes.enumerated().map { .init(id: $0.offset + 1, name: $0.element.rawValue) })
      for i in 0..<count {
        let scene = scenes.scene(first + i)
        let name = String(format: "%06d.png", first + i)
        try scene.image.writePNG(to: "\(temporary)/images/\(name)")
        file.images.append(.init(id: i + 1, file_name: name, width: scene.image.width, height: scene.image.height))
        for object in scene.objects {
          let box = COCOBox(object.box)
          let label = ShapeScenes.classes.firstIndex(of: object.shape)!
          file.annotations.append(
            .init(
              id: file.annotations.count + 1, image_id: i + 1, category_id: label + 1, bbox: box.array, area: box.width * box.height, iscrowd: 0))
        }
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      try encoder.encode(file).write(to: URL(fileURLWithPath: temporary + "/annotations.json"))
      if manager.fileExists(atPath: trimmed) { try manager.removeItem(atPath: trimmed) }  // empty, checked above
      try manager.moveItem(atPath: temporary, toPath: trimmed)
    } catch {
      try? manager.removeItem(atPath: temporary)
      throw .writeFailed(path: folder, reason: "\(error)")
    }
  }
}
