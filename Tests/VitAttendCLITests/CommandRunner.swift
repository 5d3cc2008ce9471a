import Foundation

/// Runs the built `vit-attend` binary, as a user would.
struct CommandRunner {
  struct Result {
    var status: Int32
    /// The process died of a signal (`status` is then the signal's number).
    var signalled: Bool
    var output: String
    var error: String
  }

  /// Why a command could not be run to its end.
  enum Failure: Error, CustomStringConvertible {
    case executableNotFound(name: String, near: String)
    case timedOut(arguments: [String], seconds: Double)

    var description: String {
      switch self {
      case .executableNotFound(let name, let near): "\(name) not found near \(near)"
      case .timedOut(let arguments, let seconds): "killed after \(seconds) s: \(arguments.joined(separator: " "))"
      }
    }
  }

  /// The binary beside the test bundle (`swift test` builds it: the test target depends on
  /// the executable). Throws, rather than trapping, so one missing binary fails its tests
  /// and not the whole run.
  static func executable(_ name: String) throws -> URL {
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
  static func run(_ arguments: [String], executable name: String = "vit-attend", timeout: Double = 300, in folder: String? = nil) throws -> Result {
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
  static func repositoryFile(_ relative: String, testFile: String = #filePath) -> String {
    URL(fileURLWithPath: testFile).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(relative).path
  }
}

/// Bytes filled in by another thread and read after it has finished (a `DispatchGroup` wait
/// orders the two).
private final class DataBox: @unchecked Sendable {
  var data = Data()
}

/// A scratch folder removed when the test ends.
final class ScratchFolder {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "vit-attend-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
  var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The text chunks of a PNG file: tEXt (Latin-1) and uncompressed iTXt (UTF-8).
func pngText(_ path: String) throws -> [String: String] {
  let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  var chunks: [String: String] = [:]
  var offset = 8
  while offset + 8 <= bytes.count {
    let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
    let data = bytes[(offset + 8)..<(offset + 8 + length)]
    if type == "tEXt", let zero = data.firstIndex(of: 0) {
      chunks[String(decoding: data[..<zero], as: UTF8.self)] = String(data[(zero + 1)...].map { Character(Unicode.Scalar($0)) })
    }
    // iTXt: keyword, 0, compression flag, method, language tag, 0, translated keyword, 0, text.
    if type == "iTXt", let zero = data.firstIndex(of: 0), data[zero + 1] == 0 {
      let language = data[(zero + 3)...].firstIndex(of: 0)!
      let translated = data[(language + 1)...].firstIndex(of: 0)!
      chunks[String(decoding: data[..<zero], as: UTF8.self)] = String(decoding: data[(translated + 1)...], as: UTF8.self)
    }
    offset += 12 + length
  }
  return chunks
}
