import Foundation
import VAImageIO
import Testing

/// Bad input: one clear line, a non-zero exit, and nothing written.
@Suite(.serialized) struct ErrorTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")

  private func expectFailure(_ arguments: [String], status: Int32, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try CommandRunner.run(arguments)
    #expect(result.status == status, "exit \(result.status): \(result.error)", sourceLocation: sourceLocation)
    #expect(result.error.contains(text), "stderr lacks '\(text)': \(result.error)", sourceLocation: sourceLocation)
    #expect(!result.error.contains("Fatal error") && !result.error.contains("Stack dump"), sourceLocation: sourceLocation)
  }

  @Test func missingFile() throws {
    let scratch = ScratchFolder()
    try expectFailure([scratch.file("none.png"), "--out", scratch.file("o.png")], status: 1, mentioning: "none.png: no such file")
    #expect(scratch.contents.isEmpty)
  }

  @Test func corruptImageLeavesNoOutput() throws {
    let scratch = ScratchFolder()
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cat)))
    bytes.removeLast(bytes.count / 2)
    FileManager.default.createFile(atPath: scratch.file("half.png"), contents: Data(bytes))
    try expectFailure([scratch.file("half.png"), "--out", scratch.file("o.png")], status: 1, mentioning: "half.png: PNG is truncated")
    #expect(scratch.contents == ["half.png"])
  }

  /// The page goes through the same decoding and output checks as the figure.
  @Test func pagesFailLikeFigures() throws {
    let scratch = ScratchFolder()
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cat)))
    bytes.removeLast(bytes.count / 2)
    FileManager.default.createFile(atPath: scratch.file("half.png"), contents: Data(bytes))
    try expectFailure([scratch.file("half.png"), "--html", scratch.file("half.html")], status: 1, mentioning: "half.png: PNG is truncated")
    #expect(scratch.contents == ["half.png"])
    try FileManager.default.copyItem(atPath: cat, toPath: scratch.file("cat.png"))
    try expectFailure([scratch.file("cat.png"), "--html", scratch.file("cat.png")], status: 1, mentioning: "refusing to write over an input")
    // A page for --map cls on a model without a class token opens on the query's map and
    // says so, instead of failing or falling back silently.
    let page = try CommandRunner.run([scratch.file("cat.png"), "--html", scratch.file("p.html"), "--map", "cls"])
    #expect(page.status == 0, "\(page.error)")
    #expect(try String(contentsOfFile: scratch.file("p.html"), encoding: .utf8).contains("no class token, so the page opens on the query"))
    try FileManager.default.removeItem(atPath: scratch.file("p.html"))
    try expectFailure([scratch.file("cat.png"), "--html", scratch.file("none/p.html")], status: 1, mentioning: "does not exist")
    #expect(scratch.contents == ["cat.png", "half.png"])
    #expect(try Image(contentsOfFile: scratch.file("cat.png")).width == 451)
  }

  @Test func notAnImage() throws {
    let scratch = ScratchFolder()
    FileManager.default.createFile(atPath: scratch.file("notes.png"), contents: Data("hello".utf8))
    try expectFailure([scratch.file("notes.png"), "--out", scratch.file("o.png")], status: 1, mentioning: "not a PNG or JPEG image")
  }

  @Test func refusesToOverwriteAnInput() throws {
    let scratch = ScratchFolder()
    try FileManager.default.copyItem(atPath: cat, toPath: scratch.file("cat.png"))
    let before = try Data(contentsOf: URL(fileURLWithPath: scratch.file("cat.png")))
    try expectFailure([scratch.file("cat.png"), "--out", scratch.file("./cat.png")], status: 1, mentioning: "refusing to write over an input")
    #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.file("cat.png"))) == before)
  }

  @Test(arguments: [
    (["--alpha", "2"], "--alpha must be between 0 and 1"),
    (["--map", "nope"], "nope"),
    (["--query", "12"], "--query"),
    (["--cnn", "conv3,pool"], "layer 2 'pool'"),
    (["--head", "1", "--fuse", "max"], "exclude each other"),
    (["--keep", "0"], "--keep"),
  ])
  func badOptionsExitWithUsageErrors(options: [String], mention: String) throws {
    let scratch = ScratchFolder()
    try expectFailure([cat, "--out", scratch.file("o.png")] + options, status: 64, mentioning: mention)
    #expect(scratch.contents.isEmpty)
  }

  @Test func modelLimitsAreCheckedAtRunTime() throws {
    let scratch = ScratchFolder()
    try expectFailure([cat, "--out", scratch.file("o.png"), "--head", "9"], status: 1, mentioning: "--head 9 is out of range: the model has 4 heads")
    try expectFailure([cat, "--out", scratch.file("o.png"), "--layer", "3"], status: 1, mentioning: "--layer 3 is out of range")
    try expectFailure([cat, "--out", scratch.file("o.png"), "--map", "cls"], status: 1, mentioning: "needs a model with a class token")
    try expectFailure([cat, "--out", scratch.file("o.png"), "--query", "900,10"], status: 1, mentioning: "outside the 451x300 image")
    try expectFailure([cat, CommandRunner.repositoryFile("images/coffee.png"), "--out", scratch.file("o.png")], status: 1, mentioning: "use --out-dir")
    #expect(scratch.contents.isEmpty)
  }
}
