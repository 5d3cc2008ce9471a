import Foundation
import VisionAttention

/// Progress of a run of several images on standard error: a bar redrawn in place on a
/// terminal; elsewhere (a log, a batch job) a line with the count, rate and time left every
/// few seconds.
struct ProgressBar {
  let total: Int
  private let terminal: Bool
  private let started = Date()
  private var lastLine = Date()
  /// Seconds between lines when standard error is not a terminal.
  static let lineInterval: TimeInterval = 5

  init(total: Int) {
    self.total = total
    terminal = isatty(STDERR_FILENO) != 0
  }

  mutating func update(done: Int, current: String) {
    guard total > 1 else { return }
    if terminal {
      let width = 24
      let filled = width * done / max(total, 1)
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
      let name = (current as NSString).lastPathComponent
      FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) \(name)\u{1B}[K".utf8))
    } else if Date().timeIntervalSince(lastLine) >= Self.lineInterval {
      lastLine = Date()
      FileHandle.standardError.write(Data("vit-attend: \(RunProgress.line(done: done, total: total, seconds: Date().timeIntervalSince(started)))\n".utf8))
    }
  }

  func finish() {
    guard total > 1, terminal else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
