import Foundation
import Testing

/// Chromium run headless on `vit-attend --html` pages: `--dump-dom` for the page's state
/// after its script ran, `--screenshot` for its pixels.
///
/// Found by `.ci/find-chromium`, the rule `.ci/run` uses too ($CHROMIUM, else
/// `chromium-headless-shell` then `chromium` on PATH): `.ci/run` installs Debian's
/// `chromium-headless-shell` when that finds none. Tests that need a browser carry
/// `.needsBrowser`: without one they are skipped, by name, on a developer's machine, and
/// under CI (`CI=true`, which `.ci/run` sets) they run and fail with `BrowserError.notFound`.
struct HeadlessBrowser {
  enum BrowserError: Error, CustomStringConvertible {
    case notFound(reason: String)
    case failed(status: Int32, stderr: String)
    case timedOut(seconds: Double)
    case noCurrentMap

    var description: String {
      switch self {
      case .notFound(let reason):
        "no headless Chromium found by .ci/find-chromium ($CHROMIUM, else chromium-headless-shell or chromium on PATH)"
          + (reason.isEmpty ? "" : ": \(reason)") + "; install one with `apt-get install chromium-headless-shell` (.ci/run does)"
      case .failed(let status, let stderr): "chromium exited \(status): \(stderr.suffix(2000))"
      case .timedOut(let seconds): "chromium did not finish within \(seconds) s"
      case .noCurrentMap: "the page has no #current-map element (did its script fail?)"
      }
    }
  }

  let executable: String

  /// The browser `.ci/find-chromium` prints, looked up once per test run.
  static let lookup: Result<String, BrowserError> = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = [CommandRunner.repositoryFile(".ci/find-chromium")]
    let (out, err) = (Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return .failure(.notFound(reason: "\(error)")) }
    let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    process.waitUntilExit()
    return process.terminationStatus == 0 && !path.isEmpty ? .success(path) : .failure(.notFound(reason: message))
  }()

  /// Whether `.ci/find-chromium` finds a browser.
  static var isAvailable: Bool { (try? lookup.get()) != nil }

  /// Whether the tests run under CI (`CI` set to `true` or `1`, as CI services and
  /// `.ci/run` set it), where a missing browser is a failure and not a skip.
  static var underCI: Bool { ["true", "1"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "") }

  /// The browser `.ci/find-chromium` finds.
  static func find() throws(BrowserError) -> HeadlessBrowser {
    HeadlessBrowser(executable: try lookup.get())
  }

  /// Runs Chromium on `page#fragment` with `arguments` and returns its standard output.
  /// `--no-sandbox` because tests often run as root, where Chromium's sandbox refuses to
  /// start; a fresh profile per run so parallel runs do not share a lock.
  func run(_ arguments: [String], page: String, fragment: String, timeout: Double = 60) throws -> Data {
    let profile = NSTemporaryDirectory() + "vit-attend-chromium-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: profile) }
    let url = URL(fileURLWithPath: page).absoluteString + (fragment.isEmpty ? "" : "#" + fragment)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments =
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
        "--window-size=\(Self.window.width),\(Self.window.height)", "--force-device-scale-factor=1",
      ] + arguments + [url]
    let out = Pipe()
    let errorLog = profile + ".stderr"
    _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errorLog) }
    process.standardOutput = out
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorLog))
    let started = Date()
    try process.run()
    let deadline = DispatchWorkItem { process.terminate() }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    deadline.cancel()
    if Date().timeIntervalSince(started) >= timeout { throw BrowserError.timedOut(seconds: timeout) }
    guard process.terminationStatus == 0 else {
      let stderr = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
      throw BrowserError.failed(status: process.terminationStatus, stderr: stderr)
    }
    return output
  }

  /// The window every page opens in, so the DOM's coordinates match screenshots'.
  static let window = (width: 1600, height: 1000)

  /// The page's `#current-map` after its script ran with `fragment` in the URL.
  func currentMap(page: String, fragment: String) throws -> CurrentMap {
    let dom = String(decoding: try run(["--dump-dom"], page: page, fragment: fragment), as: UTF8.self)
    return try CurrentMap(dom: dom)
  }

  /// Writes a screenshot of `page#fragment` (the window's size, one pixel per CSS pixel) to
  /// `path` as PNG.
  func screenshot(page: String, fragment: String, to path: String) throws {
    _ = try run(["--screenshot=\(path)"], page: page, fragment: fragment)
  }
}

/// The attributes the page writes on `#current-map`, decoded.
struct CurrentMap {
  /// The patch grid's values, row-major, before colour mapping.
  var values: [Double]
  /// The view, with the URL fragment's keys.
  var state: [String: Any]
  /// Milliseconds since navigation start (`ready`, `firstFrame`) and per hover.
  var timings: [String: Double]
  /// `[left, top, width, height]` of the ViT heat map in page pixels.
  var overlayBox: [Double]
  /// What the fragment asked for that the page cannot show ("" when nothing).
  var note: String
  /// The page's DOM after its script ran.
  var dom: String
  /// Where the page's attention comes from: "matrices" or "queries-keys" (nil on pages
  /// without the attribute).
  var source: String?

  init(dom: String) throws {
    guard let start = dom.range(of: "id=\"current-map\"") else { throw HeadlessBrowser.BrowserError.noCurrentMap }
    let tagStart = dom[..<start.lowerBound].lastIndex(of: "<")!
    let tag = dom[tagStart...].prefix { $0 != ">" }
    func attribute(_ name: String) throws -> Any {
      guard let open = tag.range(of: " \(name)=\""), let close = tag[open.upperBound...].firstIndex(of: "\"") else {
        throw HeadlessBrowser.BrowserError.noCurrentMap
      }
      // Serialised attributes escape only &, " and no-break spaces.
      let text = tag[open.upperBound..<close].replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
      return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
    values = (try attribute("data-values") as? [NSNumber] ?? []).map(\.doubleValue)
    state = try attribute("data-state") as? [String: Any] ?? [:]
    timings = (try attribute("data-timings") as? [String: NSNumber] ?? [:]).mapValues(\.doubleValue)
    overlayBox = (try attribute("data-overlay-box") as? [NSNumber] ?? []).map(\.doubleValue)
    note = (try? attribute("data-note")) as? String ?? ""
    self.dom = dom
    source = (try? attribute("data-source")) as? String
  }
}

extension Trait where Self == ConditionTrait {
  /// For tests that open pages in `HeadlessBrowser`: skipped (reported by name) where
  /// `.ci/find-chromium` finds no browser, except under CI, where they run and fail.
  static var needsBrowser: Self {
    .enabled(
      if: HeadlessBrowser.isAvailable || HeadlessBrowser.underCI,
      "no headless Chromium (.ci/find-chromium found none; `apt-get install chromium-headless-shell`); under CI=true this fails instead")
  }
}
