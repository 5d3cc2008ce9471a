import Foundation
import Testing
@testable import VisionAttention

/// The VisionAttention library as a Swift user meets it: the facade gives what the CLI dumps,
/// the README's example package builds and runs, and the binary needs nothing beside it.
@Suite struct LibraryTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let classifier = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_classifier")

  @Test func facadeMapsEqualTheCommandsDump() throws {
    let scratch = ScratchFolder()
    let dumpPath = scratch.file("d.safetensors")
    let cli = try CommandRunner.run([cat, "-w", classifier, "-m", "rollout", "-q", "170,113", "--dump", dumpPath])
    #expect(cli.status == 0, "\(cli.error)")
    let dump = try DumpFile(path: dumpPath)

    let result = try ImageAttention(contentsOfFile: cat, model: CheckpointModel(path: classifier))
    #expect(dump.tensors["input"] == result.run.input)
    #expect(dump.tensors["logits"] == result.run.logits)
    for (l, layer) in result.record.layers.enumerated() {
      #expect(dump.tensors["attn.\(l)"] == layer, "layer \(l)")
    }
    var settings = FigureSettings()
    settings.map = .rollout
    settings.query = QueryPoint(x: 170, y: 113)
    let figure = try result.scene(settings).figure()
    let rollout = try #require(figure.tensors.first { $0.name == "rollout" })
    #expect(dump.tensors["rollout"] == rollout.values)

    // The query map from the dumped weights, through the CLI's recorded query patch.
    let text = dump.metadata["query-patch"]?.split(separator: ",").compactMap { Int($0) }
    let patch = result.patch(atX: 170, y: 113)
    #expect(text == [patch.column, patch.row])
    let fromDump = AttentionRecord(
      layers: result.record.layers.indices.map { dump.tensors["attn.\($0)"]! }, heads: result.record.heads,
      prefixTokens: result.record.prefixTokens, hasClassToken: result.record.hasClassToken,
      gridWidth: result.record.gridWidth, gridHeight: result.record.gridHeight)
    let last = result.record.layers.count - 1
    #expect(result.queryMap(x: 170, y: 113, heads: .fused(.mean)) == fromDump.queryMap(column: patch.column, row: patch.row, layer: last, .fused(.mean)))
  }

  @Test func peakFindsTheLargestPatchAndItsPixel() throws {
    let result = try ImageAttention(contentsOfFile: cat, model: BuiltInModel())
    let map = result.queryMap(x: 170, y: 113)
    let own = result.patch(atX: 170, y: 113)
    let top = result.peak(of: map)
    #expect(map.allSatisfy { $0 <= top.value })
    let other = result.peak(of: map, excluding: own)
    #expect(other.column != own.column || other.row != own.row)
    // The centre of the peak patch maps back into it.
    let back = result.patch(atX: Int(other.x), y: Int(other.y))
    #expect(back.column == other.column && back.row == other.row)
  }

  @Test func theBinaryWritesPagesWhenCopiedAloneAnywhere() throws {
    let scratch = ScratchFolder()
    let copy = scratch.file("vit-attend")
    try FileManager.default.copyItem(at: CommandRunner.executable("vit-attend"), to: URL(fileURLWithPath: copy))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: copy)
    process.arguments = [cat, "--html", scratch.file("page.html")]
    process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let page = try String(contentsOfFile: scratch.file("page.html"), encoding: .utf8)
    #expect(page.contains("<script") && page.contains("current-map"))
    #expect(!page.contains("{{PAYLOAD}}") && !page.contains("/*{{SCRIPT}}*/"))
  }

  /// The README's first ```swift block under "Use as a library" is the example's main.swift.
  @Test func readmeSnippetIsTheExamplesMain() throws {
    let readme = try String(contentsOfFile: CommandRunner.repositoryFile("README.md"), encoding: .utf8)
    let section = try #require(readme.range(of: "## Use as a library"))
    let rest = readme[section.upperBound...]
    let open = try #require(rest.range(of: "```swift\n"))
    let close = try #require(rest[open.upperBound...].range(of: "```"))
    let snippet = String(rest[open.upperBound..<close.lowerBound])
    let main = try String(contentsOfFile: CommandRunner.repositoryFile("Examples/library-usage/Sources/library-usage/main.swift"), encoding: .utf8)
    #expect(snippet == main)
  }

  static let swift =
    ["/usr/bin/swift", "/opt/swift/usr/bin/swift"].first { FileManager.default.isExecutableFile(atPath: $0) }
    ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map { "\($0)/swift" }.first { FileManager.default.isExecutableFile(atPath: $0) }

  /// Builds Examples/library-usage (a package depending on this one by path) from scratch and
  /// runs it: one dependency line, the README's main.swift, an overlay PNG.
  @Test(.enabled(if: swift != nil, "needs the swift driver on PATH"), .timeLimit(.minutes(20)))
  func exampleLibraryPackageBuildsAndRuns() throws {
    let scratch = ScratchFolder()
    let package = CommandRunner.repositoryFile("Examples/library-usage")
    let build = Process()
    build.executableURL = URL(fileURLWithPath: Self.swift!)
    build.arguments = ["build", "--package-path", package, "--scratch-path", scratch.file("build")]
    let log = Pipe()
    build.standardOutput = log
    build.standardError = log
    try build.run()
    let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    build.waitUntilExit()
    try #require(build.terminationStatus == 0, "swift build failed:\n\(output.suffix(3000))")

    let run = Process()
    run.executableURL = URL(fileURLWithPath: scratch.file("build/debug/library-usage"))
    run.arguments = [cat, scratch.file("overlay.png")]
    let out = Pipe()
    run.standardOutput = out
    try run.run()
    let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    run.waitUntilExit()
    #expect(run.terminationStatus == 0)
    #expect(printed.contains("attends most, after itself, to patch"), "\(printed)")
    let overlay = try Image(contentsOfFile: scratch.file("overlay.png"))
    let result = try ImageAttention(contentsOfFile: cat, model: BuiltInModel())
    #expect(overlay.width == result.image.width && overlay.height == result.image.height)
  }
}
