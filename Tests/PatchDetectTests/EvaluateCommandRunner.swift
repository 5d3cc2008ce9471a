import Foundation

/// Runs the built `patch-detect` binary, as a user would (the test target depends on it, so
/// `swift test` builds it beside the test bundle).
enum PatchDetectRunner {
  struct Result {
    var status: Int32
    var signalled: Bool
    var output: String
    var error: String
  }

  struct NotFound: Error, CustomStringConvertible {
    var near: String
    var description: String { "patch-detect not found near \(near)" }
  }

  /// Runs `patch-detect arguments` in `folder` to its end; stdout and stderr are read
  /// concurrently so neither can block the child.
  static func run(_ arguments: [String], in folder: String? = nil) throws -> Result {
    var directory = Bundle.main.bundleURL
    var executable: URL?
    for _ in 0..<3 where executable == nil {
      let candidate = directory.appendingPathComponent("patch-detect")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { executable = candidate }
      directory = directory.deletingLastPathComponent()
    }
    let process = Process()
    guard let executable else { throw NotFound(near: Bundle.main.bundleURL.path) }
    process.executableURL = executable
    if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let group = DispatchGroup()
    let box = ErrorBox()
    DispatchQueue.global().async(group: group) { box.data = err.fileHandleForReading.readDataToEndOfFile() }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
      output: String(decoding: output, as: UTF8.self), error: String(decoding: box.data, as: UTF8.self))
  }

  /// Bytes filled in by another thread and read after the group's wait.
  private final class ErrorBox: @unchecked Sendable { var data = Data() }
}
