import Foundation
import VAImageIO

/// A training run's evaluation outputs in `RUN/`: `metrics.json`, `curves.png` and
/// `validation.png`, each written through a temporary file and a rename.
public enum RunOutputs {
  /// The file names, as the issue spells them (`validation.png` is this example's name for
  /// the figure of validation images).
  public static let metricsFile = "metrics.json", curvesFile = "curves.png", validationFile = "validation.png"

  /// Writes the three files into `folder` (which must exist). `curves[name]` holds one value per
  /// entry of `steps`; `extra` adds keys to metrics.json (time, budget, model size …).
  public static func write(
    to folder: String, evaluation result: AveragePrecisionResult, classNames: [String], images: Int, issues: [DataIssue],
    curves: [String: [Double]], steps: [Int], examples: [DetectionExample], extra: [String: Any] = [:]
  ) throws {
    let metrics = DetectionMetrics.dictionary(result, classNames: classNames, images: images, issues: issues, curves: curves, curveSteps: steps, extra: extra)
    try DetectionMetrics.write(metrics, to: (folder as NSString).appendingPathComponent(metricsFile))
    if !curves.isEmpty { try DetectionFigures.curves(curves, steps: steps).writePNG(to: (folder as NSString).appendingPathComponent(curvesFile)) }
    if !examples.isEmpty {
      try DetectionFigures.validation(examples, classNames: classNames).writePNG(to: (folder as NSString).appendingPathComponent(validationFile))
    }
  }
}
