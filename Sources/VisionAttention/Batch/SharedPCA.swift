import Foundation
import VAImageIO

/// One PCA over a whole folder run's patches, so `--map pca` draws every image in the same
/// colours: a first pass streams each image's patch tokens into `PCAStatistics` (never holding
/// more than one image's tokens), then every figure projects with the fit (`FigureSettings.pcaFit`).
/// A shard writes its statistics (`pca-statistics.K-of-N.json`) and `--merge` adds them up
/// into the folder's `pca.safetensors`.
public enum SharedPCA {
  /// The fit's file in a run folder.
  public static let fileName = "pca.safetensors"

  /// The statistics file of a shard (`pca-statistics.K-of-N.json`), or of a whole run
  /// (`pca-statistics.json`) for a nil tag.
  public static func statisticsName(tag: String?) -> String { "pca-statistics\(tag.map { ".\($0)" } ?? "").json" }

  /// The patch tokens `--layer` names of every image in `inputs`, run through `pipeline`'s
  /// model one at a time, and how many images they came from. An image that cannot be read or
  /// run adds nothing (and is not counted): the drawing pass that follows records its error.
  /// - Throws: `VisionAttentionError.needsTokens` for a model without tokens.
  public static func statistics(pipeline: Pipeline, inputs: [String]) throws -> (statistics: PCAStatistics, images: Int)? {
    var statistics: PCAStatistics?
    var images = 0
    for path in inputs {
      guard let prepared = try? PreparedImage(contentsOfFile: path, for: pipeline.model, input: pipeline.input),
        let plan = try? pipeline.attentionPlan(prepared.geometry, outputs: Pipeline.Outputs()),
        let run = try? pipeline.model.run(prepared.image, capture: plan.capture, features: true)
      else { continue }
      guard let features = run.features else { throw VisionAttentionError.needsTokens(map: "pca") }
      let tokens = features.tokens(layer: pipeline.settings.layer)
      let prefix = run.attention.prefixTokens
      if statistics == nil { statistics = PCAStatistics(dimension: features.dimension) }
      statistics?.add(tokens, rows: Array(prefix..<features.tokens))
      images += 1
    }
    return statistics.map { ($0, images) }
  }

  /// Writes `statistics` as JSON (doubles round-trip exactly) to `path`.
  public static func write(_ statistics: PCAStatistics, to path: String) throws {
    try AtomicFile.write([UInt8](try JSONEncoder().encode(statistics)), to: path)
  }

  /// Adds up every `pca-statistics.K-of-N.json` in `folder` and writes the fit to
  /// `pca.safetensors` beside them; nil when there are none.
  /// - Returns: the images' patch count the fit saw.
  /// - Throws: `VisionAttentionError.summariesDiffer` for statistics of different dimensions.
  static func merge(folder: String) throws -> Int? {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
      ShardMerge.shardTag($0, prefix: "pca-statistics.", suffix: ".json") != nil
    }
    var merged: PCAStatistics?
    for name in names.sorted() {
      guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)) else { continue }
      let part = try JSONDecoder().decode(PCAStatistics.self, from: data)
      guard merged == nil || merged?.dimension == part.dimension else {
        throw VisionAttentionError.summariesDiffer(first: "PCA statistics of \(merged!.dimension) channels", second: "\(part.dimension) channels (\(name))")
      }
      merged = try merged.map { try $0.merged(with: part) } ?? part
    }
    guard let merged else { return nil }
    try merged.fit().write(to: (folder as NSString).appendingPathComponent(fileName), tokens: merged.count)
    return merged.count
  }
}
