import Foundation
import VAInspection

/// The classifier's top prediction, for captions and text chunks.
extension Scene {
  /// The top-1 class of a model with a classifier: its index, its name when the checkpoint
  /// carries labels, and its softmax probability.
  public var prediction: (index: Int, name: String?, probability: Double)? {
    guard let logits = run.logits, let top = logits.indices.max(by: { logits[$0] < logits[$1] }) else { return nil }
    // Softmax in Double with the maximum subtracted, so large logits do not overflow.
    let peak = Double(logits[top])
    let total = logits.reduce(0.0) { $0 + exp(Double($1) - peak) }
    let names = model.classNames
    return (top, names.flatMap { top < $0.count ? $0[top] : nil }, 1 / total)
  }

  /// "predicted: tabby (class 281), p = 0.87", or nil without a classifier.
  public var predictionCaption: String? {
    guard let p = prediction else { return nil }
    let what = p.name.map { "\($0) (class \(p.index))" } ?? "class \(p.index)"
    return "predicted: \(what), p = \(String(format: "%.2f", p.probability))"
  }
}
