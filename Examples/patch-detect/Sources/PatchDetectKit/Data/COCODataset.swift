import Foundation
import VAImageIO

/// One image of a COCO folder, decoded, with its annotations checked against it.
public struct COCOImage: Sendable {
  /// COCO's image id.
  public var id: Int
  /// The image with its non-crowd boxes: what training sees (DETR leaves crowd regions out
  /// of its targets, `ConvertCocoPolysToMask` in its `datasets/coco.py`).
  public var sample: DetectionSample
  /// Every annotation that fits the image, crowd ones included: what evaluation sees.
  public var objects: [COCOAnnotations.Object]

  /// An image from parts.
  public init(id: Int, sample: DetectionSample, objects: [COCOAnnotations.Object]) {
    (self.id, self.sample, self.objects) = (id, sample, objects)
  }
}

/// A COCO-format folder read whole: every image decoded, every annotation checked, and what
/// was left out with the reason.
///
/// Layout: `DIR/annotations.json`, images at `DIR/<file_name>` or `DIR/images/<file_name>`.
/// Left out and reported (`issues`): images that are missing, corrupt, or not the size the file
/// declares; annotations with an unknown image or category, a bbox that is not 4 finite numbers,
/// an empty box, or a box reaching more than `fitTolerance` pixels past the image.
public struct COCODataset: Sendable {
  /// How far (pixels) a box may reach past the image's edge and still be kept as written:
  /// exporters round corners outwards; anything further is a box of another image.
  public static let fitTolerance = 1.0

  /// The annotations file read.
  public let path: String
  /// `categories[k]` is class `k`.
  public let categories: [COCOAnnotations.Category]
  /// The usable images, in the file's order.
  public var images: [COCOImage]
  /// Everything left out, in the order met.
  public var issues: [DataIssue]

  /// The class names, class `k` first.
  public var classNames: [String] { categories.map(\.name) }

  /// The annotations file of `path`: `path` itself when it is a file, else `path/annotations.json`.
  public static func annotationsFile(for path: String) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return path }
    return (path as NSString).appendingPathComponent("annotations.json")
  }

  /// Reads the folder (or annotations file) `path`, decoding every image.
  /// - Throws: `COCOError` when the annotations file cannot be used at all; per-image and
  ///   per-annotation problems go to `issues` instead.
  public init(path: String) throws(COCOError) {
    let annotations = try COCOAnnotations(contentsOf: Self.annotationsFile(for: path))
    var images: [COCOImage] = []
    var issues = annotations.issues
    for entry in annotations.images {
      switch Self.load(entry, of: annotations) {
      case .success(let (image, skipped)):
        images.append(image)
        issues += skipped
      case .failure(let issue): issues.append(issue)
      }
    }
    self.init(path: annotations.path, categories: annotations.categories, images: images, issues: issues)
  }

  /// A data set from parts.
  public init(path: String, categories: [COCOAnnotations.Category], images: [COCOImage], issues: [DataIssue]) {
    (self.path, self.categories, self.images, self.issues) = (path, categories, images, issues)
  }

  /// Where `entry`'s file is: beside the annotations file, else under `images/` there; nil
  /// when neither exists.
  public static func imagePath(of entry: COCOAnnotations.ImageEntry, annotationsFile: String) -> String? {
    if entry.fileName.hasPrefix("/") { return FileManager.default.fileExists(atPath: entry.fileName) ? entry.fileName : nil }
    let folder = (annotationsFile as NSString).deletingLastPathComponent
    let candidates = [entry.fileName, "images/" + entry.fileName].map { folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0) }
    return candidates.first { FileManager.default.fileExists(atPath: $0) }
  }

  /// Decodes `entry`'s image and checks its annotations: the image with the annotations
  /// that fit and an issue for each that does not, or the issue that leaves the whole image out.
  public static func load(_ entry: COCOAnnotations.ImageEntry, of annotations: COCOAnnotations) -> Result<(COCOImage, [DataIssue]), DataIssue> {
    guard let path = imagePath(of: entry, annotationsFile: annotations.path) else {
      let folder = (annotations.path as NSString).deletingLastPathComponent
      return .failure(DataIssue(path: entry.fileName, reason: "image \(entry.id) not found beside \(annotations.path) or under \(folder.isEmpty ? "" : folder + "/")images/"))
    }
    let image: Image
    do { image = try Image(contentsOfFile: path).rgb() } catch {
      return .failure(DataIssue(path: path, reason: "image \(entry.id) cannot be decoded: \(error)"))
    }
    if let w = entry.width, let h = entry.height, (w, h) != (image.width, image.height) {
      return .failure(DataIssue(path: path, reason: "image \(entry.id) is \(image.width)×\(image.height), the annotations say \(w)×\(h)"))
    }
    var kept: [COCOAnnotations.Object] = []
    var issues: [DataIssue] = []
    for object in entry.objects {
      if let reason = misfit(object.bbox, width: image.width, height: image.height) {
        issues.append(DataIssue(path: "\(annotations.path): annotations[\(object.index)]", reason: "\(reason) (image \(entry.id), \(path))"))
      } else {
        kept.append(object)
      }
    }
    let plain = kept.filter { !$0.isCrowd }
    let sample = DetectionSample(path: path, image: image, boxes: plain.map(\.bbox.pixelBox), labels: plain.map(\.label))
    return .success((COCOImage(id: entry.id, sample: sample, objects: kept), issues))
  }

  /// Why `box` does not fit a `width × height` image, or nil when it does.
  static func misfit(_ box: COCOBox, width: Int, height: Int) -> String? {
    let (w, h, tolerance) = (Double(width), Double(height), fitTolerance)
    let text = "bbox [\(box.array.map { String(format: "%g", $0) }.joined(separator: ", "))]"
    if box.width <= 0 || box.height <= 0 { return "\(text) is empty (width and height must be positive)" }
    if box.x < -tolerance || box.y < -tolerance || box.x + box.width > w + tolerance || box.y + box.height > h + tolerance {
      return "\(text) reaches outside the \(width)×\(height) image"
    }
    return nil
  }
}
