import Foundation
import VAImageIO

/// Joins what shards wrote into one folder (`vit-attend --merge OUT`): every
/// `index.K-of-N.jsonl` into `index.jsonl` in the whole run's order, every
/// `summary.K-of-N.json` into `summary.json` and its figure `summary.png`, every
/// `pca-statistics.K-of-N.json` into the shared PCA fit `pca.safetensors` (`SharedPCA`).
public enum ShardMerge {
  /// What a merge found and wrote.
  public struct Report: Sendable {
    /// Index records written to `index.jsonl`.
    public var records = 0
    /// The K of every `index.K-of-N.jsonl` found, sorted.
    public var shardsFound: [Int] = []
    /// N of `K-of-N`; nil when the folder held no shard file.
    public var shardCount: Int?
    /// Images in the merged `summary.json`; nil when no shard wrote a summary.
    public var summaryImages: Int?
    /// Patches the merged `pca.safetensors` was fitted on (`--map pca` shards' statistics);
    /// nil when no shard wrote statistics.
    public var pcaPatches: Int?
    /// Shards of 1...N with no file: their images are missing from the merge.
    public var missingShards: [Int] {
      guard let n = shardCount else { return [] }
      return (1...n).filter { !shardsFound.contains($0) }
    }
  }

  /// Merges the shard files in `folder`.
  /// - Throws: `VisionAttentionError.nothingToMerge` when there are none, `.summariesDiffer` when
  ///   shards of different runs (N, model or map) share the folder, `.malformedIndex`.
  public static func merge(folder: String, colormap: Colormap = .inferno) throws -> Report {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let indexes = names.compactMap { name in shardTag(name, prefix: "index.", suffix: ".jsonl").map { (name, $0) } }
    let summaries = names.compactMap { name in shardTag(name, prefix: "summary.", suffix: ".json").map { (name, $0) } }
    let statistics = names.compactMap { name in shardTag(name, prefix: "pca-statistics.", suffix: ".json").map { (name, $0) } }
    guard !indexes.isEmpty || !summaries.isEmpty || !statistics.isEmpty else { throw VisionAttentionError.nothingToMerge(folder: folder) }
    let counts = Set((indexes + summaries + statistics).map(\.1.count))
    guard counts.count == 1, let n = counts.first else {
      throw VisionAttentionError.summariesDiffer(first: "shards of \(counts.sorted().first ?? 0)", second: "shards of \(counts.sorted().last ?? 0)")
    }
    var report = Report(shardsFound: Set(indexes.map(\.1.index)).sorted(), shardCount: n)

    var records: [IndexRecord] = []
    for (name, _) in indexes.sorted(by: { $0.1.index < $1.1.index }) {
      records += try IndexWriter.read((folder as NSString).appendingPathComponent(name))
    }
    records.sort { $0.position < $1.position }
    var writer = try IndexWriter(path: (folder as NSString).appendingPathComponent("index.jsonl"))
    for record in records { writer.append(record) }
    try writer.finish()
    report.records = records.count

    var merged: DatasetSummary?
    for (name, _) in summaries.sorted(by: { $0.1.index < $1.1.index }) {
      let path = (folder as NSString).appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: path) else { continue }
      let part = try JSONDecoder().decode(DatasetSummary.self, from: data)
      merged = try merged.map { try $0.merged(with: part) } ?? part
    }
    if let merged {
      try write(merged, folder: folder, name: "summary", colormap: colormap)
      report.summaryImages = merged.images
    }
    report.pcaPatches = try SharedPCA.merge(folder: folder)
    return report
  }

  /// Writes `NAME.json` and, when the summary has one, its figure `NAME.png`.
  public static func write(_ summary: DatasetSummary, folder: String, name: String, colormap: Colormap = .inferno, figure drawFigure: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    try AtomicFile.write([UInt8](try encoder.encode(summary)), to: (folder as NSString).appendingPathComponent(name + ".json"))
    if drawFigure, let figure = summary.figure(colormap: colormap) {
      try figure.writePNG(to: (folder as NSString).appendingPathComponent(name + ".png"), text: [("Software", "vit-attend"), ("summary", summary.map)])
    }
  }

  /// The shard of a file named `PREFIX K-of-N SUFFIX`, if it is one.
  static func shardTag(_ name: String, prefix: String, suffix: String) -> Shard? {
    guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
    let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
    let parts = middle.split(separator: "-of-", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
    return Shard(parsing: "\(k)/\(n)")
  }
}
