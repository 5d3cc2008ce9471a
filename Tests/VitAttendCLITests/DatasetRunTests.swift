import Foundation
import Testing
import VAImageIO
@testable import VisionAttention

/// `vit-attend DIR --out-dir OUT` over a tree as users bring them: nested class folders,
/// equal stems, corrupt files and an image too small for the model.
@Suite struct DatasetRunTests {
  let classifier = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_classifier")

  /// root/cats/{a,b}.png, root/dogs/a.png (the same stem as cats/a), root/dogs/small/c.jpg
  /// as PNG bytes, root/dogs/broken.png (text), root/cats/trunc.png (cut short),
  /// root/dogs/tiny.png (5x5: smaller than one 8-pixel patch with --resize none), and a
  /// hidden folder that must be ignored.
  func makeTree(in scratch: ScratchFolder) throws -> String {
    let root = scratch.file("root")
    let cat = try Image(contentsOfFile: CommandRunner.repositoryFile("images/cat.png"))
    let coffee = try Image(contentsOfFile: CommandRunner.repositoryFile("images/coffee.png"))
    for folder in ["cats", "dogs/small", ".hidden"] {
      try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
    }
    try cat.resized(width: 64, height: 43, filter: .bicubic).writePNG(to: "\(root)/cats/a.png")
    try coffee.resized(width: 48, height: 40, filter: .bicubic).writePNG(to: "\(root)/cats/b.png")
    try coffee.resized(width: 40, height: 40, filter: .bicubic).writePNG(to: "\(root)/dogs/a.png")
    try cat.resized(width: 56, height: 32, filter: .bicubic).writePNG(to: "\(root)/dogs/small/c.jpg")
    try cat.resized(width: 56, height: 32, filter: .bicubic).writePNG(to: "\(root)/.hidden/x.png")
    try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(root)/dogs/broken.png"))
    let whole = try cat.resized(width: 64, height: 43, filter: .bicubic).pngData()
    try Data(whole.prefix(whole.count / 2)).write(to: URL(fileURLWithPath: "\(root)/cats/trunc.png"))
    try Image(width: 5, height: 5, channels: 3).writePNG(to: "\(root)/dogs/tiny.png")
    return root
  }

  func records(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
  }

  func run(_ root: String, _ out: String, _ extra: [String] = []) throws -> CommandRunner.Result {
    try CommandRunner.run([root, "--out-dir", out, "-w", classifier, "--resize", "none", "-m", "cls"] + extra)
  }

  @Test func keepGoingRecordsFailuresMirrorsTheTreeAndExitsTwo() throws {
    let scratch = ScratchFolder()
    let root = try makeTree(in: scratch)
    let out = scratch.file("out")
    let result = try run(root, out, ["--keep-going"])
    #expect(result.status == 2, "\(result.error)")
    #expect(result.error.contains("7 images: 4 done, 3 failed, 0 skipped"), "\(result.error)")
    for figure in ["cats/a.png", "cats/b.png", "dogs/a.png", "dogs/small/c.png"] {
      #expect(FileManager.default.fileExists(atPath: "\(out)/\(figure)"), "\(figure)")
    }
    for missing in ["dogs/broken.png", "cats/trunc.png", "dogs/tiny.png", ".hidden/x.png", "x.png"] {
      #expect(!FileManager.default.fileExists(atPath: "\(out)/\(missing)"), "\(missing)")
    }
    let index = try records("\(out)/index.jsonl")
    #expect(index.map { $0["input"] as? String } == ["cats/a.png", "cats/b.png", "cats/trunc.png", "dogs/a.png", "dogs/broken.png", "dogs/small/c.jpg", "dogs/tiny.png"])
    #expect(index.map { $0["status"] as? String } == ["ok", "ok", "error", "ok", "error", "ok", "error"])
    #expect(index.map { $0["position"] as? Int } == Array(0..<7))
    #expect((index[4]["error"] as? String)?.contains("not a PNG or JPEG") == true)
    #expect((index[6]["error"] as? String)?.contains("smaller than one 8-pixel patch") == true)
    let first = index[0]
    #expect(first["output"] as? String == "cats/a.png" && first["top_class"] is String && first["top_probability"] is Double)
    #expect((first["entropy"] as? Double).map { $0 > 0 && $0 <= log2(8.0 * 5) } == true)
    #expect(first["peak_x"] is Double && first["peak_y"] is Double && first["map"] as? String == "cls")

    let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as! [String: Any]
    #expect(summary["images"] as? Int == 4 && summary["map"] as? String == "cls")
    let mean = try #require(summary["mean_map"] as? [Double])
    #expect(mean.count == 32 * 32 && abs(mean.reduce(0, +) - 1) < 1e-6)
    #expect(FileManager.default.fileExists(atPath: "\(out)/summary.png"))
  }

  @Test func withoutKeepGoingTheFirstFailureStopsTheRun() throws {
    let scratch = ScratchFolder()
    let root = try makeTree(in: scratch)
    let out = scratch.file("out")
    let result = try run(root, out)
    #expect(result.status == 1)
    #expect(result.error.contains("trunc.png"), "\(result.error)")
    #expect(FileManager.default.fileExists(atPath: "\(out)/cats/b.png"))
    #expect(!FileManager.default.fileExists(atPath: "\(out)/dogs/a.png"), "nothing after the failure is written")
    let index = try records("\(out)/index.jsonl")
    #expect(index.map { $0["status"] as? String } == ["ok", "ok", "error"])
  }

  @Test func skipExistingRewritesNothing() throws {
    let scratch = ScratchFolder()
    let root = try makeTree(in: scratch)
    let out = scratch.file("out")
    _ = try run(root, out, ["--keep-going"])
    let figures = ["cats/a.png", "cats/b.png", "dogs/a.png", "dogs/small/c.png"].map { "\(out)/\($0)" }
    func stamps() throws -> [Date] { try figures.map { try FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as! Date } }
    let before = try stamps()
    let again = try run(root, out, ["--keep-going", "--skip-existing"])
    #expect(again.status == 2)
    #expect(try stamps() == before)
    let index = try records("\(out)/index.jsonl")
    #expect(index.map { $0["status"] as? String } == ["skipped", "skipped", "error", "skipped", "error", "skipped", "error"])
    // A skipped image keeps its numbers, and the summary still covers it.
    #expect(index[0]["top_class"] is String)
    let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as! [String: Any]
    #expect(summary["images"] as? Int == 4)
  }

  @Test func threeShardsWriteWhatOneRunWritesAndMerge() throws {
    let scratch = ScratchFolder()
    let root = try makeTree(in: scratch)
    let whole = scratch.file("whole"), shards = scratch.file("shards")
    _ = try run(root, whole, ["--keep-going", "-m", "distance"])
    var seen: [String] = []
    for k in 1...3 {
      let result = try run(root, shards, ["--keep-going", "-m", "distance", "--shard", "\(k)/3"])
      #expect(result.status == 2 || result.status == 0, "\(result.error)")
      let part = try records("\(shards)/index.\(k)-of-3.jsonl")
      #expect(part.allSatisfy { ($0["position"] as! Int) % 3 + 1 == k })
      seen += part.map { $0["input"] as! String }
    }
    #expect(seen.count == 7 && Set(seen).count == 7, "every image once")
    func figures(_ folder: String) -> [String] {
      (FileManager.default.subpaths(atPath: folder) ?? []).filter { $0.hasSuffix(".png") && !$0.hasPrefix("summary") }.sorted()
    }
    #expect(figures(shards) == figures(whole))

    let merge = try CommandRunner.run(["--merge", shards])
    #expect(merge.status == 0, "\(merge.error)")
    let merged = try records("\(shards)/index.jsonl"), reference = try records("\(whole)/index.jsonl")
    #expect(merged.map { $0["input"] as? String } == reference.map { $0["input"] as? String })
    #expect(merged.map { $0["status"] as? String } == reference.map { $0["status"] as? String })
    let a = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(shards)/summary.json"))) as! [String: Any]
    let b = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(whole)/summary.json"))) as! [String: Any]
    #expect(a["images"] as? Int == 4 && b["images"] as? Int == 4)
    let x = try #require(a["mean_attention_distance"] as? [Double]), y = try #require(b["mean_attention_distance"] as? [Double])
    #expect(x.count == 2 * 4 && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) })
    #expect(FileManager.default.fileExists(atPath: "\(shards)/summary.png"))
  }

  @Test func dumpMetadataMapsATokenBackToItsPixels() throws {
    let scratch = ScratchFolder()
    let root = scratch.file("root")
    try FileManager.default.createDirectory(atPath: "\(root)/a", withIntermediateDirectories: true)
    let image = try Image(contentsOfFile: CommandRunner.repositoryFile("images/coffee.png")).resized(width: 70, height: 45, filter: .bicubic).rgb()
    try image.writePNG(to: "\(root)/a/x.png")
    let result = try CommandRunner.run([root, "--dump-dir", scratch.file("dumps"), "-w", classifier, "--resize", "none"])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("dumps/a/x.safetensors"))
    let m = dump.metadata
    let p = try #require(m["patch_size"].flatMap { Int($0) }), gw = try #require(m["grid_width"].flatMap { Int($0) })
    let cropX = try #require(m["crop_x"].flatMap { Int($0) }), cropY = try #require(m["crop_y"].flatMap { Int($0) })
    let scale = try #require(m["scale"].flatMap { Double($0) })
    let mean = try #require(m["mean"]).split(separator: ",").map { Float($0)! }
    let std = try #require(m["std"]).split(separator: ",").map { Float($0)! }
    #expect(try #require(m["prefix_tokens"].flatMap { Int($0) }) == 1 && scale == 1)
    // Patch (c, r) of token prefix + r·gw + c: its top-left input pixel is file pixel
    // ((c·p + crop_x) / scale, (r·p + crop_y) / scale); the dumped input there is that
    // file pixel normalised with the recorded mean and std.
    let input = try #require(dump.tensors["input"]), shape = try #require(dump.shapes["input"])
    let (h, w) = (shape[1], shape[2])
    for (c, r) in [(0, 0), (gw - 1, 1), (3, 2)] {
      let x = c * p, y = r * p
      let fx = Int(Double(x + cropX) / scale), fy = Int(Double(y + cropY) / scale)
      for channel in 0..<3 {
        let stored = input[channel * h * w + y * w + x]
        let expected = (Float(image.pixels[(fy * image.width + fx) * 3 + channel]) / 255 - mean[channel]) / std[channel]
        #expect(abs(stored - expected) < 1e-5, "patch (\(c),\(r)) channel \(channel)")
      }
    }
    let index = try records(scratch.file("dumps/index.jsonl"))
    #expect(index.first?["dump"] as? String == "a/x.safetensors")
  }

  @Test func batchedRunsEqualOneImageAtATime() throws {
    let scratch = ScratchFolder()
    let root = scratch.file("root")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let cat = try Image(contentsOfFile: CommandRunner.repositoryFile("images/cat.png"))
    for i in 0..<5 { try cat.resized(width: 60 + i, height: 44, filter: .bicubic).writePNG(to: "\(root)/\(i).png") }
    for batch in ["1", "4"] {
      let result = try CommandRunner.run([root, "--dump-dir", scratch.file("b\(batch)"), "-w", classifier, "--batch-size", batch])
      #expect(result.status == 0, "\(result.error)")
    }
    for i in 0..<5 {
      let one = try DumpFile(path: scratch.file("b1/\(i).safetensors")), four = try DumpFile(path: scratch.file("b4/\(i).safetensors"))
      for name in ["attn.0", "attn.1", "logits"] {
        let a = try #require(one.tensors[name]), b = try #require(four.tensors[name])
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(i) \(name)")
      }
    }
  }
}
