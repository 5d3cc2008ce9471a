import Foundation

/// Runs a built executable of the package (`vit-attend` by default), as a user would: the
/// CLI tests and patch-detect's tests both drive their binaries through it.
public struct CommandRunner {
  /// How a run ended and what it wrote.
  public struct Result {
    public var status: Int32
    /// The process died of a signal (`status` is then the signal's number).
    public var signalled: Bool
    public var output: String
    public var error: String
  }

  /// Why a command could not be run to its end.
  public enum Failure: Error, CustomStringConvertible {
    case executableNotFound(name: String, near: String)
    case timedOut(arguments: [String], seconds: Double)

    public var description: String {
      switch self {
      case .executableNotFound(let name, let near): "\(name) not found near \(near)"
      case .timedOut(let arguments, let seconds): "killed after \(seconds) s: \(arguments.joined(separator: " "))"
      }
    }
  }

  /// The binary beside the test bundle (`swift test` builds it: the test target depends on
  /// the executable). Throws, rather than trapping, so one missing binary fails its tests
  /// and not the whole run.
  public static func executable(_ name: String) throws -> URL {
    var folder = Bundle.main.bundleURL
    for _ in 0..<3 {
      let candidate = folder.appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    throw Failure.executableNotFound(name: name, near: Bundle.main.bundleURL.path)
  }

  /// Runs the binary to its end. A run past `timeout` seconds is killed and throws
  /// `Failure.timedOut`: a hang detector for hostile input (the limit is generous, for a
  /// debug build on a loaded machine), not a speed check. `folder` is the working directory
  /// (default: the test's own), for relative paths such as `./help`.
  public static func run(_ arguments: [String], executable name: String = "vit-attend", timeout: Double = 300, in folder: String? = nil) throws -> Result {
    let process = Process()
    process.executableURL = try executable(name)
    if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    // Read both pipes concurrently so a chatty stderr cannot block the child.
    let error = DataBox()
    let errorRead = DispatchGroup()
    DispatchQueue.global().async(group: errorRead) { error.data = err.fileHandleForReading.readDataToEndOfFile() }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    errorRead.wait()
    process.waitUntilExit()
    watchdog.cancel()
    // SIGTERM comes only from the watchdog here.
    if process.terminationReason == .uncaughtSignal, process.terminationStatus == SIGTERM {
      throw Failure.timedOut(arguments: arguments, seconds: timeout)
    }
    return Result(
      status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
      output: String(decoding: output, as: UTF8.self), error: String(decoding: error.data, as: UTF8.self))
  }

  /// Path of a file in the repository.
  public static func repositoryFile(_ relative: String, testFile: String = #filePath) -> String {
    URL(fileURLWithPath: testFile).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(relative).path
  }
}

/// Bytes filled in by another thread and read after it has finished (a `DispatchGroup` wait
/// orders the two).
private final class DataBox: @unchecked Sendable {
  var data = Data()
}
