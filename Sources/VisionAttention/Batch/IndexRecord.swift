import Foundation

/// One line of `index.jsonl`: an input image, what became of it, and its numbers.
///
/// Keys (JSON, snake_case): `position` (the image's place in the whole run's sorted list,
/// from 0), `input` (relative to the folder given, or as given for files), `status` (`ok`,
/// `error` or `skipped`), `error` (the message), `output`, `page`, `dump` (relative to the
/// index's folder), `top_class` (the checkpoint's label, else the index), `top_index`,
/// `top_probability`, `map`, `entropy` (bits, of the shown map scaled to sum 1), `peak_x`,
/// `peak_y` (centre of the shown map's peak patch in input pixels), `peak_patch` (column,
/// row), `mean_attention_distance` (pixels, per layer, mean over heads; `--map distance`).
public struct IndexRecord: Codable, Equatable, Sendable {
  public enum Status: String, Codable, Sendable {
    case ok, error, skipped
  }

  public var position: Int
  public var input: String
  public var status: Status
  public var error: String?
  public var output: String?
  public var page: String?
  public var dump: String?
  public var topClass: String?
  public var topIndex: Int?
  public var topProbability: Double?
  public var map: String?
  public var entropy: Double?
  public var peakX: Double?
  public var peakY: Double?
  public var peakPatch: [Int]?
  public var meanAttentionDistance: [Double]?

  enum CodingKeys: String, CodingKey {
    case position, input, status, error, output, page, dump
    case topClass = "top_class", topIndex = "top_index", topProbability = "top_probability"
    case map, entropy, peakX = "peak_x", peakY = "peak_y", peakPatch = "peak_patch"
    case meanAttentionDistance = "mean_attention_distance"
  }

  /// A record without numbers: an error or a skipped image.
  public init(job: OutputPlan.Job, status: Status, error: String? = nil, relativeTo folder: String?) {
    position = job.position
    input = job.relative
    self.status = status
    self.error = error
    output = job.output.map { Self.relative($0, to: folder) }
    page = job.page.map { Self.relative($0, to: folder) }
    dump = job.dump.map { Self.relative($0, to: folder) }
  }

  /// A finished image's record.
  public init(job: OutputPlan.Job, summary: ImageSummary, map: MapKind?, relativeTo folder: String?) {
    self.init(job: job, status: .ok, relativeTo: folder)
    if let p = summary.prediction {
      topClass = p.name ?? String(p.index)
      topIndex = p.index
      topProbability = p.probability
    }
    self.map = map?.rawValue ?? "default"
    entropy = summary.entropy
    if let peak = summary.peak {
      // Millipixels are plenty, and keep 112.49999999999999 from reaching the index.
      (peakX, peakY, peakPatch) = ((peak.x * 1000).rounded() / 1000, (peak.y * 1000).rounded() / 1000, [peak.column, peak.row])
    }
    if let distances = summary.distances, summary.heads > 0 {
      meanAttentionDistance = (0..<summary.layers).map { l in
        Double(distances[(l * summary.heads)..<((l + 1) * summary.heads)].reduce(0, +)) / Double(summary.heads)
      }
    }
  }

  /// The records of an index file (`index.jsonl`), in file order; none when it is missing.
  /// - Throws: `VisionAttentionError.malformedIndex` naming the line that is not a record.
  public static func records(inFile path: String) throws(VisionAttentionError) -> [IndexRecord] {
    try IndexWriter.read(path)
  }

  /// One line of JSON, keys sorted, no trailing newline.
  public func jsonLine() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// `path` relative to `folder` when it lies inside it, else as given.
  static func relative(_ path: String, to folder: String?) -> String {
    guard let folder else { return path }
    let base = URL(fileURLWithPath: folder).standardizedFileURL.path
    let full = URL(fileURLWithPath: path).standardizedFileURL.path
    return full.hasPrefix(base + "/") ? String(full.dropFirst(base.count + 1)) : path
  }
}
