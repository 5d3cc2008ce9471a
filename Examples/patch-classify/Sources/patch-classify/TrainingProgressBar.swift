import Foundation
import PatchClassifyKit

/// One line on standard error, redrawn in place on a terminal (else one line per epoch):
/// epoch, a bar, step, loss and accuracy so far this epoch, images per second, time left.
final class TrainingProgressBar {
  private let isTerminal = isatty(STDERR_FILENO) != 0
  private var lastEpochPrinted = -1
  private var lastDraw = Date.distantPast

  func update(_ r: StepReport) {
    let width = 20
    let filled = width * r.step / max(r.totalSteps, 1)
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let line = String(
      format: "epoch %d/%d [%@] step %d/%d loss %.3f acc %.1f%% %.0f img/s, %@ left",
      r.epoch + 1, r.epochs, bar, r.step, r.totalSteps, r.loss, 100 * r.accuracy, r.imagesPerSecond, Self.duration(r.secondsLeft))
    if isTerminal {
      // Redrawing every step would cost more than a step of a tiny model; 10 times a second is plenty.
      guard Date().timeIntervalSince(lastDraw) > 0.1 || r.step == r.totalSteps else { return }
      lastDraw = Date()
      FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
    } else if r.step == r.totalSteps || (r.epoch != lastEpochPrinted && r.step % max(1, r.totalSteps / max(r.epochs, 1)) == 0) {
      lastEpochPrinted = r.epoch
      FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
  }

  func finish() {
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
  }

  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
  }
}
