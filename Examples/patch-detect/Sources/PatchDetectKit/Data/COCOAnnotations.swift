import Foundation

/// A COCO detection annotations file (`images`, `annotations`, `categories`), parsed and
/// checked, before any image is decoded.
///
/// Reference: the COCO data format, <https://cocodataset.org/#format-data> ("Object
/// Detection"): `bbox` is `[x, y, width, height]` in pixels from the top-left corner.
/// Category ids become contiguous class indices `0..<C` in the order `categories` lists them
/// (`categories[k].id ↔ k`), the mapping kept here for `id2label` and for writing results back.
public struct COCOAnnotations: Sendable {
  /// One category: COCO's id and its name.
  public struct Category: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String

    /// A category.
    public init(id: Int, name: String) { (self.id, self.name) = (id, name) }
  }

  /// One image entry with its annotations, in the file's order.
  public struct ImageEntry: Sendable {
    /// COCO's image id.
    public var id: Int
    /// `file_name` as written in the file.
    public var fileName: String
    /// The declared size, when the file gives it (COCO always does; some tools omit it).
    public var width: Int?, height: Int?
    /// Its annotations, in the file's order (crowd ones included).
    public var objects: [Object]
  }

  /// One annotation.
  public struct Object: Sendable, Equatable {
    /// COCO's annotation id (1-based in COCO; `index + 1` when the file has none).
    public var id: Int
    /// Its index in the file's `annotations` list, for messages.
    public var index: Int
    /// The class index (0..<C), not COCO's category id.
    public var label: Int
    /// `[x, y, width, height]` in pixels, as written.
    public var bbox: COCOBox
    /// `iscrowd`: a region of many objects, ignored by evaluation and left out of training.
    public var isCrowd: Bool
    /// `area` as written, or the box's area without one (only COCO's area ranges read it).
    public var area: Double
  }

  /// The file read.
  public let path: String
  /// In the file's order; `categories[k]` is class `k`.
  public let categories: [Category]
  /// In the file's order.
  public let images: [ImageEntry]
  /// Annotations left out (unknown image or category, a bbox that is not 4 finite numbers).
  public let issues: [DataIssue]

  /// The class names, `categories[k].name` for class `k` (DETR's `id2label`).
  public var classNames: [String] { categories.map(\.name) }

  /// The class index of COCO category `id`, or nil.
  public func label(ofCategory id: Int) -> Int? { categories.firstIndex { $0.id == id } }

  /// Reads and checks `path`.
  /// - Throws: `COCOError.unreadable`, `.malformed` (not JSON or not COCO's structure, with
  ///   the key path), `.invalid` (no categories, duplicate image or category ids).
  public init(contentsOf path: String) throws(COCOError) {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw .unreadable(path: path, reason: (error as NSError).localizedFailureReason ?? "\(error.localizedDescription)")
    }
    try self.init(json: data, path: path)
  }

  /// Parses `data` as the contents of `path`.
  public init(json data: Data, path: String) throws(COCOError) {
    let file: RawFile
    do { file = try JSONDecoder().decode(RawFile.self, from: data) } catch let error as DecodingError {
      throw .malformed(path: path, reason: Self.describe(error))
    } catch { throw .malformed(path: path, reason: "\(error)") }
    guard !file.categories.isEmpty else { throw .invalid(path: path, reason: "`categories` is empty: nothing to detect") }
    var categoryIndex: [Int: Int] = [:]
    for (k, c) in file.categories.enumerated() {
      guard categoryIndex[c.id] == nil else { throw .invalid(path: path, reason: "category id \(c.id) appears twice in `categories`") }
      categoryIndex[c.id] = k
    }
    var imageIndex: [Int: Int] = [:]
    var images: [ImageEntry] = []
    for (i, image) in file.images.enumerated() {
      guard imageIndex[image.id] == nil else { throw .invalid(path: path, reason: "image id \(image.id) appears twice in `images`") }
      imageIndex[image.id] = i
      images.append(ImageEntry(id: image.id, fileName: image.file_name, width: image.width, height: image.height, objects: []))
    }
    var issues: [DataIssue] = []
    for (index, a) in (file.annotations ?? []).enumerated() {
      let name = DataIssue(path: "\(path): annotations[\(index)]", reason: "")
      func skip(_ reason: String) { issues.append(DataIssue(path: name.path, reason: reason)) }
      guard let i = imageIndex[a.image_id] else {
        skip("image_id \(a.image_id) is not in `images`")
        continue
      }
      guard let label = categoryIndex[a.category_id] else {
        skip("category_id \(a.category_id) is not in `categories`")
        continue
      }
      guard a.bbox.count == 4, a.bbox.allSatisfy(\.isFinite) else {
        skip("bbox \(a.bbox) is not 4 finite numbers [x, y, width, height]")
        continue
      }
      let box = COCOBox(x: a.bbox[0], y: a.bbox[1], width: a.bbox[2], height: a.bbox[3])
      images[i].objects.append(
        Object(id: a.id ?? index + 1, index: index, label: label, bbox: box, isCrowd: a.iscrowd?.value ?? false, area: a.area ?? box.width * box.height))
    }
    self.path = path
    self.categories = file.categories
    self.images = images
    self.issues = issues
  }

  /// `annotations[3].bbox: expected an array, found a string`, from a decoding error.
  static func describe(_ error: DecodingError) -> String {
    func keyPath(_ path: [any CodingKey]) -> String {
      let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "the top level" : text)
    }
    switch error {
    case .keyNotFound(let key, let context):
      let parent = context.codingPath.isEmpty ? "the top level" : keyPath(context.codingPath)
      return "\(parent) has no `\(key.stringValue)`"
    case .typeMismatch(let type, let context):
      return "\(keyPath(context.codingPath)): expected \(Self.name(of: type)); \(context.debugDescription)"
    case .valueNotFound(let type, let context):
      return "\(keyPath(context.codingPath)): expected \(Self.name(of: type)), found null"
    case .dataCorrupted(let context):
      let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
      return context.codingPath.isEmpty
        ? "not valid JSON" + (underlying.map { " (\($0))" } ?? "")
        : "\(keyPath(context.codingPath)): \(context.debugDescription)"
    @unknown default:
      return "\(error)"
    }
  }

  private static func name(of type: Any.Type) -> String {
    switch type {
    case is Int.Type: "an integer"
    case is Double.Type: "a number"
    case is String.Type: "a string"
    case is [Double].Type, is [Any].Type: "an array"
    default: "\(type)"
    }
  }

  // The file's structure, as COCO names it; only the keys detection reads.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct RawFile: Decodable {
    var images: [RawImage]
    var annotations: [RawAnnotation]?
    var categories: [Category]
  }
  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct RawImage: Decodable {
    var id: Int
    var file_name: String
    var width: Int?
    var height: Int?
  }
  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct RawAnnotation: Decodable {
    var id: Int?
    var image_id: Int
    var category_id: Int
    var bbox: [Double]
    var iscrowd: CrowdFlag?
    var area: Double?
  }
  /// `iscrowd` as COCO writes it (0 or 1), or as some exporters do (false or true).
  private struct CrowdFlag: Decodable {
    var value: Bool
    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let flag = try? container.decode(Bool.self) { value = flag } else { value = try container.decode(Int.self) != 0 }
    }
  }
}

/// COCO's box, `[x, y, width, height]` in pixels, in Double as COCO's tools compute with it.
public struct COCOBox: Sendable, Equatable {
  public var x: Double, y: Double, width: Double, height: Double

  /// A box.
  public init(x: Double, y: Double, width: Double, height: Double) {
    (self.x, self.y, self.width, self.height) = (x, y, width, height)
  }

  /// The box of `box`'s corners.
  public init(_ box: PixelBox) {
    self.init(x: Double(box.minX), y: Double(box.minY), width: Double(box.maxX - box.minX), height: Double(box.maxY - box.minY))
  }

  /// As corners, in Float.
  public var pixelBox: PixelBox {
    PixelBox(minX: Float(x), minY: Float(y), maxX: Float(x + width), maxY: Float(y + height))
  }

  /// `[x, y, width, height]`.
  public var array: [Double] { [x, y, width, height] }
}
