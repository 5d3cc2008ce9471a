import Foundation

/// `metrics.json`: the run's results. The keys `val_accuracy`, `per_class_accuracy`,
/// `pointing_game`, `images_per_second` and `train_seconds` are a contract other tools read.
public struct RunMetrics: Sendable {
  public var model: String
  public var dataset: String
  public var classNames: [String]
  public var report: Evaluation.Report
  public var epochs: Int
  public var steps: Int
  public var batchSize: Int
  public var parameterCount: Int
  /// Training images per second over the run's training steps (evaluation excluded).
  public var imagesPerSecond: Double
  public var trainSeconds: Double
  public var threads: Int
  public var seed: UInt64
  /// The settings that shaped the run (`learning_rate`, `width`, …), as strings.
  public var settings: [String: String] = [:]

  /// The JSON object, keys sorted. `pointing_game` is the hit rate of the model's first map
  /// (a ViT's class-token attention, a CNN's class activation map) with Zhang et al.'s
  /// tolerance; every map's is under `pointing_game_by_map`, and without tolerance under
  /// `pointing_game_strict_by_map`; null where the dataset has no masks or the model no maps.
  public var json: [String: Any] {
    var out: [String: Any] = Self.reportJSON(report, classNames: classNames)
    out.merge([
      "model": model, "dataset": dataset,
      "images_per_second": imagesPerSecond, "train_seconds": trainSeconds,
      "epochs": epochs, "steps": steps, "batch_size": batchSize, "parameter_count": parameterCount,
      "threads": threads, "seed": seed,
    ]) { $1 }
    out["settings"] = settings
    return out
  }

  /// An evaluation's keys, shared by `metrics.json` and `evaluate --out`: `class_names`,
  /// `val_accuracy`, `per_class_accuracy` (name → accuracy), `confusion_matrix`
  /// (`[true][predicted]`), `pointing_game`, `pointing_game_by_map`, `pointing_game_strict_by_map`.
  public static func reportJSON(_ report: Evaluation.Report, classNames: [String]) -> [String: Any] {
    [
      "class_names": classNames,
      "val_accuracy": report.accuracy,
      "per_class_accuracy": Dictionary(uniqueKeysWithValues: zip(classNames, report.perClassAccuracy)),
      "confusion_matrix": report.confusion,
      "pointing_game": report.pointingGame.first.map { $0.hitRate as Any } ?? NSNull(),
      "pointing_game_by_map": Dictionary(uniqueKeysWithValues: report.pointingGame.map { ($0.name, $0.hitRate) }),
      "pointing_game_strict_by_map": Dictionary(uniqueKeysWithValues: report.strictPointingGame.map { ($0.name, $0.hitRate) }),
    ]
  }

  public func serialized() throws -> Data {
    try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
  }
}
