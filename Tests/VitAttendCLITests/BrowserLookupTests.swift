import Foundation
import Testing

/// `.ci/find-chromium` is the one rule: `.ci/run` installs a browser when it finds none, and
/// `HeadlessBrowser` opens what it prints. Checked on fake browsers in a folder of their own.
struct BrowserLookupTests {
  /// Runs the rule with `PATH` set to `path` and `CHROMIUM` to `chromium` (unset if nil).
  func lookup(path: String, chromium: String? = nil) throws -> (status: Int32, printed: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = [CommandRunner.repositoryFile(".ci/find-chromium")]
    var environment = ["PATH": path]
    environment["CHROMIUM"] = chromium
    process.environment = environment
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, printed.trimmingCharacters(in: .newlines))
  }

  func fakeBrowser(_ name: String, in folder: String) throws -> String {
    let path = (folder as NSString).appendingPathComponent(name)
    try "#!/bin/sh\n".write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    return path
  }

  @Test func headlessShellThenChromiumOnPathThenNothing() throws {
    let (first, second) = (ScratchFolder(), ScratchFolder())
    let chromium = try fakeBrowser("chromium", in: first.path)
    #expect(try lookup(path: first.path) == (0, chromium), "chromium anywhere on PATH is found")
    let shell = try fakeBrowser("chromium-headless-shell", in: second.path)
    #expect(try lookup(path: "\(first.path):\(second.path)") == (0, shell), "chromium-headless-shell first, wherever it is on PATH")
    #expect(try lookup(path: ScratchFolder().path).status == 1)
    #expect(try lookup(path: first.path, chromium: shell) == (0, shell), "$CHROMIUM wins")
    #expect(try lookup(path: first.path, chromium: second.path).status == 1, "a folder in $CHROMIUM is no browser")
  }

  /// `.ci/run` decides what to install by the same script the tests use.
  @Test func ciRunUsesTheSameRule() throws {
    let run = try String(contentsOfFile: CommandRunner.repositoryFile(".ci/run"), encoding: .utf8)
    #expect(run.contains("if ! .ci/find-chromium >/dev/null; then"))
    #expect(!run.contains("command -v chromium"), ".ci/run looks for a browser by its own rule again")
  }
}
