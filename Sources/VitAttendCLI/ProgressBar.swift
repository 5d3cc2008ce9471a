import Foundation
import VisionAttention

/// A one-line progress bar on standard error, drawn only when it is a terminal and there is
/// more than one image.
struct ProgressBar {
  let total: Int
  private let visible: Bool

  init(total: Int) {
    self.total = total
    visible = total > 1 && isatty(STDERR_FILENO) != 0
  }

  func update(done: Int, current: String) {
    guard visible else { return }
    let width = 24
    let filled = width * done / max(total, 1)
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let name = (current as NSString).lastPathComponent
    FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) \(name)\u{1B}[K".utf8))
  }

  func finish() {
    guard visible else { return }
    update(done: total, current: "")
    FileHandle.standardError.write(Data("\n".utf8))
  }
}
