import VATestSupport

/// Runs the built `patch-detect` binary, as a user would (the test target depends on it, so
/// `swift test` builds it beside the test bundle), through the runner the CLI tests use.
enum PatchDetectRunner {
  /// Runs `patch-detect arguments` in `folder` to its end (killed, and throwing, past ten
  /// minutes: a hang detector, not a speed check).
  static func run(_ arguments: [String], in folder: String? = nil) throws -> CommandRunner.Result {
    try CommandRunner.run(arguments, executable: "patch-detect", timeout: 600, in: folder)
  }
}
