import Foundation
import VAImageIO

/// COCO's results format (a JSON list of `{image_id, category_id, bbox, score}`), read into
/// and written from class indices through an annotations file's category mapping.
public enum COCOResults {
  // swift-format-ignore: AlwaysUseLowerCamelCase
  private struct Entry: Codable {
    var image_id: Int
    var category_id: Int
    var bbox: [Double]
    var score: Double
  }

  /// Reads a results file; categories become class indices of `annotations`.
  /// - Throws: `COCOError.malformed` for JSON that is not a results list, or a category or
  ///   box it cannot place (naming the entry).
  public static func read(_ path: String, categories: [COCOAnnotations.Category]) throws(COCOError) -> [AveragePrecision.Prediction] {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .unreadable(path: path, reason: error.localizedDescription) }
    let entries: [Entry]
    do { entries = try JSONDecoder().decode([Entry].self, from: data) } catch let error as DecodingError {
      throw .malformed(path: path, reason: COCOAnnotations.describe(error))
    } catch { throw .malformed(path: path, reason: "\(error)") }
    var predictions: [AveragePrecision.Prediction] = []
    for (i, e) in entries.enumerated() {
      guard let label = categories.firstIndex(where: { $0.id == e.category_id }) else {
        throw .malformed(path: path, reason: "[\(i)].category_id \(e.category_id) is not a category of the annotations")
      }
      guard e.bbox.count == 4 else { throw .malformed(path: path, reason: "[\(i)].bbox has \(e.bbox.count) numbers, expected 4") }
      predictions.append(.init(imageID: e.image_id, label: label, bbox: COCOBox(x: e.bbox[0], y: e.bbox[1], width: e.bbox[2], height: e.bbox[3]), score: e.score))
    }
    return predictions
  }

  /// The results file's bytes for `predictions` (class indices mapped back to category ids).
  public static func json(_ predictions: [AveragePrecision.Prediction], categories: [COCOAnnotations.Category]) throws -> [UInt8] {
    let entries = predictions.map { Entry(image_id: $0.imageID, category_id: categories[$0.label].id, bbox: $0.bbox.array, score: $0.score) }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Array(try encoder.encode(entries))
  }

  /// Writes `predictions` to `path` through a temporary file and a rename.
  public static func write(_ predictions: [AveragePrecision.Prediction], categories: [COCOAnnotations.Category], to path: String) throws {
    try AtomicFile.write(json(predictions, categories: categories), to: path)
  }
}

extension AveragePrecision.GroundTruth {
  /// Every annotation of `annotations` (crowd ones included) as evaluation's ground truth.
  public static func all(in annotations: COCOAnnotations) -> [Self] {
    annotations.images.flatMap { image in image.objects.map { Self(imageID: image.id, label: $0.label, bbox: $0.bbox, isCrowd: $0.isCrowd, area: $0.area) } }
  }

  /// Every annotation kept for `images`.
  public static func all(in images: [COCOImage]) -> [Self] {
    images.flatMap { image in image.objects.map { Self(imageID: image.id, label: $0.label, bbox: $0.bbox, isCrowd: $0.isCrowd, area: $0.area) } }
  }
}

extension AveragePrecision.Prediction {
  /// A model's detection on image `imageID`.
  public init(_ detection: Detection, imageID: Int) {
    self.init(imageID: imageID, label: detection.label, bbox: COCOBox(detection.box), score: Double(detection.score))
  }
}
