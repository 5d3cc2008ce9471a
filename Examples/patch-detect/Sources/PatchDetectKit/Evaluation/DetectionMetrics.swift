import Foundation
import VAImageIO

/// `metrics.json`: COCO AP on a validation set, per class, and (for a training run) the loss
/// curves. Keys: `ap`, `ap50`, `ap75` (IoU .50:.95, .50, .75; pycocotools' `stats[0..2]`),
/// `ar100`, `per_class` {name: AP .50:.95}, `per_class_ap50` {name: AP .50}, `images`,
/// `skipped` (count) and `skipped_items` ([{path, reason}]); with curves, `curves`
/// {name: [value]} and `curve_steps` [step]; then whatever `extra` adds. A number that
/// does not exist (no ground truth of a class) is `null`, never −1 or 0.
public enum DetectionMetrics {
  /// The dictionary written; `extra`'s keys are added last and win.
  public static func dictionary(
    _ result: AveragePrecisionResult, classNames: [String], images: Int, issues: [DataIssue],
    curves: [String: [Double]]? = nil, curveSteps: [Int]? = nil, extra: [String: Any] = [:]
  ) -> [String: Any] {
    precondition(classNames.count == result.classes, "\(classNames.count) class names for \(result.classes) classes")
    func number(_ value: Double?) -> Any { value.map { $0 as Any } ?? NSNull() }
    var perClass: [String: Any] = [:], perClass50: [String: Any] = [:]
    for (k, name) in classNames.enumerated() {
      perClass[name] = number(result.ap(ofClass: k))
      perClass50[name] = number(result.ap50(ofClass: k))
    }
    var json: [String: Any] = [
      "ap": number(result.ap), "ap50": number(result.ap50), "ap75": number(result.ap75), "ar100": number(result.ar100),
      "per_class": perClass, "per_class_ap50": perClass50, "images": images, "skipped": issues.count,
      "skipped_items": issues.map { ["path": $0.path, "reason": $0.reason] },
    ]
    if let curves { json["curves"] = curves.mapValues { $0.map { $0.isFinite ? $0 as Any : NSNull() } } }
    if let curveSteps { json["curve_steps"] = curveSteps }
    json.merge(extra) { _, new in new }
    return json
  }

  /// Writes `dictionary` to `path` (sorted keys, indented) through a temporary file and a rename.
  public static func write(_ dictionary: [String: Any], to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: dictionary, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    try AtomicFile.write(Array(data) + [10], to: path)
  }

  /// The lines a command prints: the three APs, then each class's.
  public static func summary(_ result: AveragePrecisionResult, classNames: [String]) -> [String] {
    func text(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "n/a (no ground truth)" }
    var lines = ["AP \(text(result.ap))  AP50 \(text(result.ap50))  AP75 \(text(result.ap75))  AR100 \(text(result.ar100))"]
    let width = classNames.map(\.count).max() ?? 0
    for (k, name) in classNames.enumerated() {
      lines.append("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  AP \(text(result.ap(ofClass: k)))  AP50 \(text(result.ap50(ofClass: k)))")
    }
    return lines
  }
}
