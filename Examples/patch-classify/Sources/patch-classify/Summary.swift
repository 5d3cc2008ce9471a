import Foundation
import PatchClassifyKit

/// The run's results as text: accuracy, per-class accuracy, the confusion matrix, the
/// pointing game and throughput.
struct Summary {
  let text: String

  init(_ m: RunMetrics) {
    var lines = [String(format: "validation accuracy %.2f%% (%@ on %@, %d parameters)", 100 * m.report.accuracy, m.model, m.dataset, m.parameterCount)]
    lines += Self.reportLines(m.report, classNames: m.classNames)
    lines.append(String(format: "training: %.1f images/s on %d threads, %.0f s", m.imagesPerSecond, m.threads, m.trainSeconds))
    text = lines.joined(separator: "\n")
  }

  /// Per-class accuracy, the confusion matrix and the pointing game (when scored), one
  /// line each: what a training run and `evaluate` both print.
  static func reportLines(_ report: Evaluation.Report, classNames: [String]) -> [String] {
    var lines: [String] = []
    let nameWidth = classNames.map(\.count).max() ?? 0
    func padded(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
    lines.append("per class: " + zip(classNames, report.perClassAccuracy).map { String(format: "%@ %.1f%%", $0, 100 * $1) }.joined(separator: ", "))
    lines.append("confusion matrix (rows: true, columns: predicted):")
    let cell = max(5, classNames.map { min($0.count, 8) }.max() ?? 5) + 1
    lines.append(padded("", nameWidth) + classNames.map { padded(String($0.prefix(8)), cell) }.joined())
    for (name, row) in zip(classNames, report.confusion) {
      lines.append(padded(name, nameWidth) + row.map { padded(String($0), cell) }.joined())
    }
    for ((name, rate), (_, strict)) in zip(report.pointingGame, report.strictPointingGame) {
      lines.append(String(format: "pointing game, %@ map: %.1f%% (peak within 15/224 of the side of the object; on it: %.1f%%)", name, 100 * rate, 100 * strict))
    }
    return lines
  }
}
