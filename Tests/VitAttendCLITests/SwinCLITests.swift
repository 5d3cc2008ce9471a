import Foundation
import Testing
import VAImageIO
import VARendering

/// vit-attend on Swin checkpoints: the dump against the fixtures' PyTorch references
/// (Tests/VAModelsTests/Fixtures/{timm_swin,timm_swinv2,hf_swin,hf_swinv2}, written by
/// Scripts/reference/swin_fixtures.py), the effective-field rollout against numpy and Grad-CAM
/// against torch autograd (Tests/VitAttendCLITests/Fixtures/swin, written by
/// Scripts/reference/swin_maps.py; regenerate: python3 Scripts/reference/swin_maps.py).
@Suite struct SwinCLITests {
  static let fixtures = ["timm_swin", "timm_swinv2", "hf_swin", "hf_swinv2"]
  /// Each fixture at 224×224 (`--resize fit`, the trained size: no resampling) and 120×200
  /// (`--resize none`, maps 15×25 then 8×13 that pad to the window).
  static let cases = fixtures.flatMap { [($0, ""), ($0, "2")] }

  static func fixture(_ name: String) -> String { CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(name)") }

  /// Runs vit-attend on the fixture's `input{suffix}.png` and reads the dump.
  static func dump(_ name: String, _ suffix: String, _ extra: [String] = [], in scratch: ScratchFolder) throws -> DumpFile {
    let out = scratch.file("\(name)\(suffix).safetensors")
    let resize = suffix.isEmpty ? "fit" : "none"
    let result = try CommandRunner.run(
      ["\(fixture(name))/input\(suffix).png", "-w", fixture(name), "--resize", resize, "--dump", out, "-o", scratch.file("\(name)\(suffix).png")] + extra)
    #expect(result.status == 0, "\(result.error)")
    return try DumpFile(path: out)
  }

  /// Largest |a − b| over the largest |b|: the dump's error relative to the reference's peak.
  static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) values against \(b.count)")
    let peak = b.map(abs).max() ?? 0
    return zip(a, b).map { abs($0 - $1) }.max()! / max(peak, .leastNormalMagnitude)
  }

  /// `input`, every block's `attn.{l}` `[windows, heads, N, N]` and `logits` within 1e-5 of
  /// the reference's largest value (float32 through the same operations; measured below 1e-6).
  @Test(arguments: cases) func dumpMatchesPyTorch(name: String, suffix: String) throws {
    let scratch = ScratchFolder()
    let dump = try Self.dump(name, suffix, in: scratch)
    let reference = try DumpFile(path: "\(Self.fixture(name))/reference\(suffix).safetensors")
    let names = reference.tensors.keys.sorted()
    #expect(names.filter { $0.hasPrefix("attn.") }.count == 4)
    for tensor in names {
      let got = try #require(dump.tensors[tensor], "\(tensor) missing from the dump")
      #expect(dump.shapes[tensor] == reference.shapes[tensor], "\(tensor)")
      let error = Self.relativeError(got, reference.tensors[tensor]!)
      print("swin dump \(name)\(suffix) \(tensor): largest error \(error) of the reference's peak")
      #expect(error <= 1e-5, "\(name)\(suffix) \(tensor): \(error)")
    }
    // Block 1 is shifted by half its window; the metadata says where every window lies.
    #expect(dump.metadata["attn.1.shift"] == "3,3")
    #expect(dump.metadata["attn.2.stage"] == "1")
    #expect(dump.metadata["attn.0.cell_pixels"] == "8" && dump.metadata["attn.2.cell_pixels"] == "16")
    #expect(dump.metadata["attn.0.map"] == (suffix.isEmpty ? "28,28" : "15,25"))
    #expect(dump.metadata["attn.0.pad_order"] == (name.hasPrefix("timm") ? "roll-then-pad" : "pad-then-roll"))
  }

  /// `query.0` (block 0, unshifted, so window (r / 7, c / 7) holds cell (r, c) at token
  /// (r % 7, c % 7)) is the reference's row for the query's slot, head mean, placed on its window.
  @Test(arguments: ["timm_swin", "hf_swinv2"]) func queryMapIsTheQueryRowOfItsWindow(name: String) throws {
    let scratch = ScratchFolder()
    let dump = try Self.dump(name, "", ["--map", "query", "--query", "60,100"], in: scratch)
    let reference = try DumpFile(path: "\(Self.fixture(name))/reference.safetensors")
    let attention = reference.tensors["attn.0"]!  // [16, 1, 49, 49]
    let (column, row) = (60 / 8, 100 / 8)
    let window = row / 7 * 4 + column / 7, token = row % 7 * 7 + column % 7
    var expected = [Float](repeating: 0, count: 28 * 28)
    for key in 0..<49 {
      let (y, x) = (row / 7 * 7 + key / 7, column / 7 * 7 + key % 7)
      expected[y * 28 + x] = attention[(window * 49 + token) * 49 + key]
    }
    let map = try #require(dump.tensors["query.0"])
    #expect(Self.relativeError(map, expected) <= 1e-5)
    #expect(dump.tensors["query.3"]?.count == 14 * 14)
  }

  /// The effective field against numpy's full-matrix product (swin_maps.py).
  @Test(arguments: cases) func rolloutMatchesNumpy(name: String, suffix: String) throws {
    let scratch = ScratchFolder()
    let dump = try Self.dump(name, suffix, ["--map", "rollout"], in: scratch)
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/swin/\(name)\(suffix).safetensors"))
    let field = try #require(dump.tensors["rollout"])
    #expect(dump.shapes["rollout"] == reference.shapes["rollout"])
    let error = Self.relativeError(field, reference.tensors["rollout"]!)
    print("swin rollout \(name)\(suffix): largest error \(error) of the reference's peak")
    #expect(error <= 1e-5)
    #expect(abs(field.reduce(0, +) - 1) < 1e-4)
  }

  /// Grad-CAM on the final norm against torch autograd (swin_maps.py).
  @Test(arguments: cases) func gradCAMMatchesAutograd(name: String, suffix: String) throws {
    let scratch = ScratchFolder()
    let dump = try Self.dump(name, suffix, ["--map", "gradcam"], in: scratch)
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/swin/\(name)\(suffix).safetensors"))
    let cam = try #require(dump.tensors["gradcam"])
    #expect(dump.shapes["gradcam"] == reference.shapes["gradcam"])
    let error = Self.relativeError(cam, reference.tensors["gradcam"]!)
    print("swin gradcam \(name)\(suffix): largest error \(error) of the reference's peak")
    #expect(error <= 1e-5)
  }

  /// Mean attention distance per block and head against numpy (swin_maps.py), and the
  /// effective field's reach per block.
  @Test(arguments: cases) func distanceMatchesNumpy(name: String, suffix: String) throws {
    let scratch = ScratchFolder()
    let dump = try Self.dump(name, suffix, ["--map", "distance"], in: scratch)
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/swin/\(name)\(suffix).safetensors"))
    for l in 0..<4 {
      let d = try #require(dump.tensors["distance.\(l)"])
      let error = Self.relativeError(d, try #require(reference.tensors["distance.\(l)"]))
      print("swin distance.\(l) \(name)\(suffix): largest error \(error) of the reference's peak")
      #expect(error <= 1e-5, "block \(l): \(d)")
    }
    #expect(try #require(dump.tensors["reach"]).count == 4)
  }

  /// The maps and options a Swin checkpoint lacks are refused by name, before any output.
  @Test(arguments: [
    (["--map", "cls"], "--map cls"), (["--map", "mask"], "--map mask"), (["--map", "posembed"], "--map posembed"),
    (["--map", "pca"], "--map pca"), (["--map", "norms"], "--map norms"), (["--map", "gradrollout"], "--map gradrollout"),
    (["--map", "attngrad"], "--map attngrad"), (["--per-head"], "--per-head"),
  ])
  func inapplicableOptionsAreRefused(arguments: [String], named: String) throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run(["\(Self.fixture("timm_swin"))/input.png", "-w", Self.fixture("timm_swin"), "-o", scratch.file("x.png")] + arguments)
    #expect(result.status != 0)
    #expect(result.error.contains("\(named) does not apply to a Swin checkpoint"), "\(result.error)")
    #expect(scratch.contents.isEmpty)
  }

  /// A folder run draws every image and indexes each with its prediction and map numbers.
  @Test func folderRunIndexesEveryImage() throws {
    let scratch = ScratchFolder()
    let images = scratch.file("images")
    try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
    for file in ["input.png", "input2.png"] {
      try FileManager.default.copyItem(atPath: "\(Self.fixture("hf_swin"))/\(file)", toPath: "\(images)/\(file)")
    }
    let result = try CommandRunner.run([images, "-w", Self.fixture("hf_swin"), "--map", "rollout", "--out-dir", scratch.file("out")])
    #expect(result.status == 0, "\(result.error)")
    let lines = try String(contentsOfFile: scratch.file("out/index.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 2)
    for line in lines {
      let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect(record["status"] as? String == "ok", "\(record)")
      #expect(record["top_index"] != nil && record["entropy"] != nil && record["peak_x"] != nil, "\(record)")
    }
    #expect(FileManager.default.fileExists(atPath: scratch.file("out/input.png")))
  }

  /// The page carries every block's weights, quantised per row to 8 bits of the row's
  /// maximum: each within half a step (`row_max / 510`) of the dump's.
  @Test func pageCarriesEveryBlocksWeights() throws {
    let scratch = ScratchFolder()
    let name = "hf_swin"
    let result = try CommandRunner.run(
      ["\(Self.fixture(name))/input2.png", "-w", Self.fixture(name), "--resize", "none", "--html", scratch.file("p.html"), "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let page = try String(contentsOfFile: scratch.file("p.html"), encoding: .utf8)
    let start = try #require(page.range(of: "<script type=\"application/json\" id=\"payload\">")).upperBound
    let end = try #require(page.range(of: "</script>", range: start..<page.endIndex)).lowerBound
    let payload = try #require(try JSONSerialization.jsonObject(with: Data(page[start..<end].utf8)) as? [String: Any])
    let blocks = try #require(payload["blocks"] as? [[String: Any]])
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    #expect(blocks.count == 4)
    for (l, block) in blocks.enumerated() {
      let weights = [UInt8](try #require(Data(base64Encoded: block["weights"] as! String)))
      let rowMax = try #require(Data(base64Encoded: block["row_max"] as! String)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
      let reference = try #require(dump.tensors["attn.\(l)"])
      let n = block["n"] as! Int
      #expect(weights.count == reference.count && rowMax.count * n == reference.count)
      let worst = reference.indices.map { abs(Float(weights[$0]) / 255 * rowMax[$0 / n] - reference[$0]) - rowMax[$0 / n] / 510 }.max()!
      #expect(worst <= 1e-6, "block \(l): \(worst)")
    }
  }

  /// `--head` must exist in every block a map reads: stage 0 has one head here.
  @Test func headMissingFromAStageIsRefusedNamingTheBlock() throws {
    let scratch = ScratchFolder()
    let fixture = Self.fixture("timm_swin")
    let all = try CommandRunner.run(["\(fixture)/input.png", "-w", fixture, "--map", "query", "--head", "1", "-o", scratch.file("a.png")])
    #expect(all.status != 0 && all.error.contains("--head 1 at block 0 does not apply to a Swin checkpoint"), "\(all.error)")
    let one = try CommandRunner.run(["\(fixture)/input.png", "-w", fixture, "--map", "query", "--head", "1", "--layer", "3", "-o", scratch.file("b.png")])
    #expect(one.status == 0, "\(one.error)")
  }

  /// In a browser, the page draws every block's window for the query: each caption's peak is
  /// the dumped `query.{l}` map's largest weight (to the page's three decimals and its 8-bit weights).
  @Test(.needsBrowser) func pageDrawsEveryBlocksWindowInABrowser() throws {
    let scratch = ScratchFolder()
    let fixture = Self.fixture("timm_swin")
    let result = try CommandRunner.run(
      ["\(fixture)/input.png", "-w", fixture, "--map", "query", "--html", scratch.file("p.html"), "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dom = String(decoding: try HeadlessBrowser.find().run(["--dump-dom", "--virtual-time-budget=5000"], page: scratch.file("p.html"), fragment: ""), as: UTF8.self)
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    // The captions' text; the script's own source also holds "; peak ", followed by no number.
    let peaks = dom.components(separatedBy: "; peak ").dropFirst().compactMap { Float($0.prefix(5)) }
    #expect(peaks.count == 4, "\(dom.suffix(2000))")
    for (l, shown) in peaks.enumerated() {
      let peak = try #require(dump.tensors["query.\(l)"]).max()!
      #expect(abs(shown - peak) <= 0.0005 + peak / 510, "block \(l): page \(shown), dump \(peak)")
    }
  }

  /// `--resize none` keeps a 203×122 image's pixels for transformers (which pads to 208×128,
  /// a 26×16 map) and crops it to 200×120 for timm (`strict_img_size`); `--dump-attention none`
  /// leaves the weights out.
  @Test func keptSizeIsPaddedByTransformersAndCroppedForTimm() throws {
    let scratch = ScratchFolder()
    let odd = scratch.file("odd.png")
    try Image(contentsOfFile: "\(Self.fixture("hf_swin"))/input.png").rgb().cropped(x: 0, y: 0, width: 203, height: 122).writePNG(to: odd)
    for (name, width, height, map) in [("hf_swin", 203, 122, "16,26"), ("timm_swin", 200, 120, "15,25")] {
      let out = scratch.file("\(name).safetensors")
      let result = try CommandRunner.run([odd, "-w", Self.fixture(name), "--resize", "none", "--dump", out, "--dump-attention", "none"])
      #expect(result.status == 0, "\(result.error)")
      let dump = try DumpFile(path: out)
      #expect(dump.shapes["input"] == [3, height, width], "\(name)")
      #expect(dump.metadata["attn.0.map"] == map && dump.metadata["attn.0.padded"] == "21,28", "\(name): \(dump.metadata)")
      #expect(dump.tensors.keys.filter { $0.hasPrefix("attn.") }.isEmpty && dump.tensors["logits"]?.count == 5, "\(name)")
    }
  }

  /// `--faithfulness` is refused by name for a Swin checkpoint, and writes no report.
  @Test func faithfulnessIsRefusedByName() throws {
    let scratch = ScratchFolder()
    let fixture = Self.fixture("timm_swin")
    let result = try CommandRunner.run(["\(fixture)/input.png", "-w", fixture, "--faithfulness", scratch.file("r.json")])
    #expect(result.status != 0 && result.error.contains("--faithfulness does not apply to a Swin checkpoint"), "\(result.error)")
    #expect(scratch.contents.isEmpty)
  }

  /// The bare `--map query` overlay at block 0, pixel by pixel: outside the query's window the
  /// input darkened to 45%; inside, the input blended 40/60 with the colormap at the dumped
  /// `query.0` weight over the window's peak (within 1 level of rounding).
  @Test func bareQueryOverlayIsTheWindowsWeightsOverTheInput() throws {
    let scratch = ScratchFolder()
    let fixture = Self.fixture("timm_swin")
    let result = try CommandRunner.run(
      ["\(fixture)/input.png", "-w", fixture, "--map", "query", "--layer", "0", "--style", "bare", "-o", scratch.file("q.png"), "--dump", scratch.file("q.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let figure = try Image(contentsOfFile: scratch.file("q.png")).rgb()
    let input = try Image(contentsOfFile: "\(fixture)/input.png").rgb()
    let map = try #require(try DumpFile(path: scratch.file("q.safetensors")).tensors["query.0"])
    #expect(figure.width == 224 && figure.height == 224)
    let peak = map.max()!
    var checked = (inside: 0, outside: 0)
    // Pixel centres of every 8-pixel cell, away from the window's outline and the query marker.
    for row in 0..<28 {
      for column in 0..<28 where abs(column * 8 + 4 - 112) > 12 || abs(row * 8 + 4 - 112) > 12 {
        let (x, y) = (column * 8 + 4, row * 8 + 4)
        let inWindow = row / 7 == 2 && column / 7 == 2
        let (r, g, b) = Colormap.inferno.color(map[row * 28 + column] / peak)
        for (c, over) in [r, g, b].enumerated() {
          let under = Float(input.pixels[(y * 224 + x) * 3 + c])
          let expected = inWindow ? under * 0.4 + Float(over) * 0.6 : under * 0.45
          #expect(abs(Float(figure.pixels[(y * 224 + x) * 3 + c]) - expected) <= 1.01, "cell (\(column),\(row)) channel \(c)")
        }
        if inWindow { checked.inside += 1 } else { checked.outside += 1 }
      }
    }
    #expect(checked.inside > 20 && checked.outside > 700)
  }
}
