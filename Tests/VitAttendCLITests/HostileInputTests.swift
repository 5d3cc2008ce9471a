import Foundation
import VAImageIO
import Testing

/// Hostile command lines: every one ends in a result or one error line with exit 1 (run
/// errors) or 64 (usage errors), never a signal, and well inside the runner's watchdog.
@Suite(.serialized) struct HostileInputTests {
  /// A 64x48 image used at its own size (4x3 patches), so runs that reach the model are quick.
  private static func smallImage(in scratch: ScratchFolder) throws -> String {
    var pixels: [UInt8] = []
    for y in 0..<48 { for x in 0..<64 { pixels += [UInt8(x * 4), UInt8(y * 5), UInt8((x ^ y) & 0xff)] } }
    let path = scratch.file("small.png")
    try Image(width: 64, height: 48, channels: 3, pixels: pixels).writePNG(to: path)
    return path
  }

  /// Runs `arguments` and checks the outcome is clean: one of `statuses`, no signal, and
  /// on failure exactly one `Error:` line that mentions `text`.
  @discardableResult
  private func expectClean(
    _ arguments: [String], statuses: Set<Int32>, mentioning text: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> CommandRunner.Result {
    let result = try CommandRunner.run(arguments, timeout: 120)
    #expect(!result.signalled, "killed by signal \(result.status): \(result.error)", sourceLocation: sourceLocation)
    #expect(statuses.contains(result.status), "exit \(result.status): \(result.error)", sourceLocation: sourceLocation)
    if result.status != 0 {
      let errorLines = result.error.split(separator: "\n").filter { $0.hasPrefix("Error:") }
      #expect(errorLines.count == 1, "expected one error line: \(result.error)", sourceLocation: sourceLocation)
      if let text { #expect(errorLines.first?.contains(text) == true, "error lacks '\(text)': \(result.error)", sourceLocation: sourceLocation) }
    }
    #expect(!result.error.contains("Fatal error") && !result.error.contains("Stack dump"), sourceLocation: sourceLocation)
    return result
  }

  private static func layers(_ layer: String, _ count: Int) -> String { Array(repeating: layer, count: count).joined(separator: ",") }

  /// The issue's four specs: overflowing strides, a field beyond any image, and a stack
  /// deeper than the cap. Each is refused while parsing, with the cap in the message.
  @Test(arguments: [
    (["--map", "rf", "--cnn", layers("conv1s10000", 6)], "stride exceeds 100000 pixels"),
    (["--map", "distance", "--cnn", layers("pool2s2", 70)], "exceeds 100000 pixels"),
    (["--cnn", layers("conv9999d9999", 8)], "field size exceeds 100000 pixels"),
    (["--cnn", layers("conv3p1", 15_000)], "15000 layers; at most 1000"),
  ])
  func oversizedCNNSpecsAreRefused(options: [String], mention: String) throws {
    let scratch = ScratchFolder()
    try expectClean([try Self.smallImage(in: scratch), "--out", scratch.file("o.png")] + options, statuses: [64], mentioning: mention)
    #expect(scratch.contents == ["small.png"])
  }

  /// The largest stacks the caps allow still draw every figure that uses them.
  @Test(arguments: [
    ["--map", "rf", "--cnn", "conv10000d10," + layers("conv1", 999)],
    ["--map", "distance", "--cnn", layers("conv3p1", 1000)],
    ["--cnn", layers("conv3p1", 1000)],
    ["--map", "rf", "--cnn", layers("pool2s2", 16)],
  ])
  func largestAllowedStacksDraw(options: [String]) throws {
    let scratch = ScratchFolder()
    try expectClean([try Self.smallImage(in: scratch), "--resize", "none", "--out", scratch.file("o.png")] + options, statuses: [0])
    #expect(try Image(contentsOfFile: scratch.file("o.png")).width > 64)
  }

  /// Values the parser or `validate()` refuses: usage errors. `--query` goes through the
  /// `--query=` form too, as negative values must.
  @Test(arguments: [
    (["--query=nan,5"], "--query"), (["--query=5,inf"], "--query"), (["--query=1e300,5"], "--query"),
    (["--query=99999999999999999999,5"], "--query"), (["--query", "3"], "--query"),
    (["--layer=-1"], "--layer"), (["--layer", "99999999999999999999"], "--layer"), (["--head=-3"], "--head"),
    (["--head-count", "0"], "--head-count"),
    (["--keep", "nan"], "--keep"), (["--keep", "1e300"], "--keep"), (["--keep", "0"], "--keep"),
    (["--discard-ratio", "1"], "--discard-ratio"), (["--discard-ratio", "nan"], "--discard-ratio"), (["--discard-ratio=-0.5"], "--discard-ratio"),
    (["--alpha", "nan"], "--alpha"), (["--alpha=-0.1"], "--alpha"), (["--alpha", "inf"], "--alpha"),
    (["--threads", "0"], "--threads"), (["--threads", "99999999999"], "--threads"), (["--batch-size", "0"], "--batch-size"),
    (["--shard", "0/3"], "--shard"), (["--shard", "4/3"], "--shard"), (["--mean", "nan,0,0"], "--mean"), (["--std", "0,1,1"], "--std"),
  ])
  func hostileNumbersAreUsageErrors(options: [String], mention: String) throws {
    let scratch = ScratchFolder()
    try expectClean([try Self.smallImage(in: scratch), "--out", scratch.file("o.png")] + options, statuses: [64], mentioning: mention)
    #expect(scratch.contents == ["small.png"])
  }

  /// A query that parses but lies outside the image is a run error naming the image's size.
  @Test(arguments: [["--query=-5,10"], ["--query", "-5,10"], ["--query", "10,99999"]])
  func queriesOutsideTheImageAreRunErrors(options: [String]) throws {
    let scratch = ScratchFolder()
    try expectClean([try Self.smallImage(in: scratch), "--out", scratch.file("o.png")] + options, statuses: [1], mentioning: "outside")
    #expect(scratch.contents == ["small.png"])
  }

  /// Values that parse but exceed what the image or model has: run errors naming them.
  @Test(arguments: [
    (["--query=9223372036854775807,0"], "outside the 64x48 image"),
    (["--query", "64,47"], "outside the 64x48 image"),
    (["--layer", "9223372036854775807"], "--layer 9223372036854775807 is out of range"),
    (["--head", "9223372036854775807"], "--head 9223372036854775807 is out of range"),
    (["--head-count", "9223372036854775807", "--weights", CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")], "heads do not divide"),
  ])
  func outOfRangeValuesAreRunErrors(options: [String], mention: String) throws {
    let scratch = ScratchFolder()
    try expectClean([try Self.smallImage(in: scratch), "--resize", "none", "--out", scratch.file("o.png")] + options, statuses: [1], mentioning: mention)
    #expect(scratch.contents == ["small.png"])
  }

  /// Extreme values that are still valid draw a figure.
  @Test(arguments: [
    ["--map", "mask", "--keep", "1e-300"], ["--map", "mask", "--keep", "1"],
    ["--map", "rollout", "--discard-ratio", "0.9999999999"], ["--alpha", "0"], ["--query", "63,47"],
  ])
  func extremeValidValuesDraw(options: [String]) throws {
    let scratch = ScratchFolder()
    try expectClean([try Self.smallImage(in: scratch), "--resize", "none", "--out", scratch.file("o.png")] + options, statuses: [0])
    #expect(FileManager.default.fileExists(atPath: scratch.file("o.png")))
  }

  /// Outputs in folders that do not exist fail before the model runs; a folder for
  /// `--out-dir` that cannot be made is one line too, not a Foundation error dump.
  @Test func outputsInMissingFoldersFailCleanly() throws {
    let scratch = ScratchFolder()
    let image = try Self.smallImage(in: scratch)
    for option in ["--out", "--html", "--dump"] {
      let path = scratch.file("missing/folder/x.out")
      try expectClean([image, option, path], statuses: [1], mentioning: "folder \(scratch.file("missing/folder")) does not exist")
    }
    try expectClean([image, "--out-dir", scratch.file("small.png/sub")], statuses: [1], mentioning: "cannot create the folder")
    #expect(scratch.contents == ["small.png"])
  }
}
