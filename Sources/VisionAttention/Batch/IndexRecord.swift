import Foundation

/// One line of `index.jsonl`: an input image, what became of it, and its numbers.
///
/// Keys (JSON, snake_case): `position` (the image's place in the whole run's sorted list,
/// from 0), `input` (relative to the folder given, or as given for files), `status` (`ok`,
/// `error` or `skipped`), `error` (the message), `output`, `page`, `dump` (relative to the
/// index's folder), `top_class` (the checkpoint's label, else the index), `top_index`,
/// `top_probability`, `map`, `entropy` (bits, of the shown map scaled to sum 1), `peak_x`,
/// `peak_y` (centre of the shown map's peak patch in input pixels), `peak_patch` (column,
/// row), `mean_attention_distance` (pixels, per layer, mean over heads; `--map distance`),
/// `high_norm_tokens` (`--map norms`: one list per layer, from 0, of the indices of the tokens
/// whose norm exceeds `--norm-factor` × the layer's median, in the model's token order, prefix
/// tokens first: `[[0, 37], [], …]`), `detections` (a DETR checkpoint: the objects whose class
/// probability exceeds `--score`, in query order, each `{"label": "cat", "score": 0.998,
/// "box": [x_min, y_min, x_max, y_max]}` with the box in input-file pixels, as transformers'
/// `post_process_object_detection` gives it with the file's size; `[]` when none does).
public struct IndexRecord: Codable, Equatable, Sendable {
  /// What became of an image (JSON `status`).
  public enum Status: String, Codable, Sendable {
    /// `ok`: outputs written; `error`: the run failed (see `error`); `skipped`: its outputs existed
    /// (`--skip-existing`).
    case ok, error, skipped
  }

  /// The image's place in the whole run's sorted list, from 0 (shards keep it).
  public var position: Int
  /// The image's path: relative to the folder given, or as given for a file.
  public var input: String
  /// Whether its outputs were written, it failed, or it was skipped.
  public var status: Status
  /// The error's message, for `status == .error`.
  public var error: String?
  /// The figure's path, relative to the index's folder.
  public var output: String?
  /// The interactive page's path, relative to the index's folder.
  public var page: String?
  /// The dump's path, relative to the index's folder.
  public var dump: String?
  /// The top-1 class's label from the checkpoint, else its index as text (JSON `top_class`).
  public var topClass: String?
  /// The top-1 class's index (JSON `top_index`).
  public var topIndex: Int?
  /// The top-1 class's softmax probability (JSON `top_probability`).
  public var topProbability: Double?
  /// The `--map` drawn, `default` for the default figure; nil for a failed or skipped image.
  public var map: String?
  /// Entropy in bits of the shown map scaled to sum 1 (`ImageSummary.entropy`).
  public var entropy: Double?
  /// Centre of the shown map's peak patch, x in input-file pixels (JSON `peak_x`).
  public var peakX: Double?
  /// Centre of the shown map's peak patch, y in input-file pixels (JSON `peak_y`).
  public var peakY: Double?
  /// The peak patch as `[column, row]` (JSON `peak_patch`).
  public var peakPatch: [Int]?
  /// Mean attention distance in pixels per layer, mean over heads, `[layers]` (`--map distance`).
  public var meanAttentionDistance: [Double]?
  /// Per layer, the indices of the high-norm tokens (JSON `high_norm_tokens`, `--map norms`).
  public var highNormTokens: [[Int]]?
  /// A detector's objects above `--score` (JSON `detections`).
  public var detections: [Detection]?

  /// One detected object (an element of JSON `detections`).
  public struct Detection: Codable, Equatable, Sendable {
    /// The class's name (`id2label`).
    public var label: String
    /// The class's softmax probability.
    public var score: Double
    /// `[x_min, y_min, x_max, y_max]` in input-file pixels, not clamped to the image.
    public var box: [Double]

    /// An object as given.
    public init(label: String, score: Double, box: [Double]) {
      (self.label, self.score, self.box) = (label, score, box)
    }
  }

  enum CodingKeys: String, CodingKey {
    case position, input, status, error, output, page, dump
    case topClass = "top_class", topIndex = "top_index", topProbability = "top_probability"
    case map, entropy, peakX = "peak_x", peakY = "peak_y", peakPatch = "peak_patch"
    case meanAttentionDistance = "mean_attention_distance"
    case highNormTokens = "high_norm_tokens"
    case detections
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
    highNormTokens = summary.highNormTokens
    detections = summary.detections
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
