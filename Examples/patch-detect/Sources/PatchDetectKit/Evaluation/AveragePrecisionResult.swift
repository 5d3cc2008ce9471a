/// What `AveragePrecision.evaluate` finds: pycocotools' `precision` and `recall` arrays (for
/// area "all", 100 detections) and the summaries read from them.
public struct AveragePrecisionResult: Sendable, Equatable {
  /// `[threshold][recall point][class]`, interpolated precision; −1 for a class without ground truth.
  public var precision: [[[Double]]]
  /// `[threshold][class]`, the recall reached; −1 for a class without ground truth.
  public var recall: [[Double]]

  /// A result from pycocotools-shaped arrays.
  public init(precision: [[[Double]]], recall: [[Double]]) { (self.precision, self.recall) = (precision, recall) }

  /// The number of classes.
  public var classes: Int { recall.first?.count ?? 0 }

  /// AP at IoU 0.50:0.95 (COCO's headline number, `stats[0]`); nil without any ground truth.
  public var ap: Double? { meanPrecision(thresholds: precision.indices, classes: 0..<classes) }
  /// AP at IoU 0.50 (`stats[1]`, PASCAL VOC's metric with COCO's interpolation).
  public var ap50: Double? { meanPrecision(thresholds: 0..<1, classes: 0..<classes) }
  /// AP at IoU 0.75 (`stats[2]`).
  public var ap75: Double? { meanPrecision(thresholds: 5..<6, classes: 0..<classes) }
  /// Average recall with 100 detections per image (`stats[8]`).
  public var ar100: Double? { Self.mean(recall.flatMap { $0 }) }

  /// Class `k`'s AP at IoU 0.50:0.95; nil when it has no ground truth.
  public func ap(ofClass k: Int) -> Double? { meanPrecision(thresholds: precision.indices, classes: k..<(k + 1)) }
  /// Class `k`'s AP at IoU 0.50.
  public func ap50(ofClass k: Int) -> Double? { meanPrecision(thresholds: 0..<1, classes: k..<(k + 1)) }
  /// Class `k`'s AP at threshold index `t` (`AveragePrecision.iouThresholds[t]`).
  public func ap(ofClass k: Int, threshold t: Int) -> Double? { meanPrecision(thresholds: t..<(t + 1), classes: k..<(k + 1)) }

  /// pycocotools' `_summarize`: the mean of the entries above −1, nil when none is.
  private func meanPrecision(thresholds: Range<Int>, classes: Range<Int>) -> Double? {
    Self.mean(thresholds.flatMap { t in precision[t].flatMap { row in classes.map { row[$0] } } })
  }

  private static func mean(_ values: [Double]) -> Double? {
    let kept = values.filter { $0 > -1 }
    return kept.isEmpty ? nil : kept.reduce(0, +) / Double(kept.count)
  }
}
