import Foundation
import VAImageIO
import VARendering
import Testing

/// vit-attend on real checkpoint layouts: the conformance fixtures from timm and
/// Hugging Face (Tests/VAModelsTests/Fixtures, written by Scripts/reference/vit_fixtures.py).
@Suite(.serialized) struct CheckpointTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
  let registers = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_registers_nonsquare")
  let huggingFace = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_classifier")

  /// The overlay maps on the cat fitted to each model (resampled position embeddings, a
  /// grid unlike the checkpoint's), checked against their recomputation from the dumped
  /// attention; the other maps on every family: FamilyMapValueTests, FamilyFigureValueTests.
  @Test(arguments: ["timm_basic", "timm_registers_nonsquare", "hf_classifier"])
  func overlayMapsOnACheckpointAreTheirRecomputation(name: String) throws {
    try FamilyMapValueTests.checkOverlayMaps(.init(name: name), image: cat)
  }

  /// `--map heads` draws a row per layer, and for a model with an attention-pooling head
  /// (the shipped ShapeWorld model) a last row with that head's maps: counted as runs of
  /// non-white pixels down the first column of cells.
  @Test func theHeadsFigureEndsWithThePoolingHeadsRow() throws {
    let scratch = ScratchFolder()
    let star = CommandRunner.repositoryFile("images/shapeworld-star.png")
    func cellRows(_ arguments: [String]) throws -> Int {
      let result = try CommandRunner.run(arguments + ["--map", "heads", "--out", scratch.file("h.png")])
      #expect(result.status == 0, "\(result.error)")
      let figure = try Image(contentsOfFile: scratch.file("h.png")).rgb()
      // Past the row labels and the margin, inside the first 128-pixel column of cells, left
      // of the query marker at its centre.
      let x = BitmapFont.width(of: "layer 0") + 8 + 40
      func white(_ y: Int) -> Bool { figure.pixels[(y * figure.width + x) * 3..<(y * figure.width + x) * 3 + 3].allSatisfy { $0 == 255 } }
      var (rows, run) = (0, 0)
      for y in 0...figure.height {
        if y < figure.height && !white(y) { run += 1; continue }
        if run >= 48 { rows += 1 }
        run = 0
      }
      return rows
    }
    #expect(try cellRows([star, "-w", CommandRunner.repositoryFile("Examples/patch-classify/model")]) == 4 + 1)
    #expect(try cellRows([cat, "-w", timm]) == 2)
  }

  @Test func dumpFromACheckpointHasLogitsAndEveryLayer() throws {
    let scratch = ScratchFolder()
    // 64-pixel model: the cat is fitted to 64x43 and cropped to 64x32, a 4x2 grid.
    let result = try CommandRunner.run([cat, "--weights", timm, "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    #expect(dump.shapes["input"] == [3, 32, 64] && dump.shapes["logits"] == [10])
    #expect(dump.shapes["attn.0"] == [3, 9, 9] && dump.shapes["attn.1"] == [3, 9, 9])
    let attention = try #require(dump.tensors["attn.1"])
    for row in 0..<(3 * 9) {
      #expect(abs(attention[(row * 9)..<((row + 1) * 9)].reduce(0, +) - 1) < 1e-4)
    }
  }

  @Test func badWeightsGiveOneClearLine() throws {
    let scratch = ScratchFolder()
    FileManager.default.createFile(atPath: scratch.file("bad.safetensors"), contents: Data([200, 0, 0, 0, 0, 0, 0, 0, 0x7B]))
    try FileManager.default.createDirectory(atPath: scratch.file("empty"), withIntermediateDirectories: false)
    for (weights, mention) in [
      (scratch.file("bad.safetensors"), "header claims 200 bytes"),
      (scratch.file("none.safetensors"), "no such file"),
      (scratch.file("empty"), "no .safetensors file"),
    ] {
      let result = try CommandRunner.run([cat, "--weights", weights, "--out", scratch.file("o.png")])
      #expect(result.status == 1 && result.error.contains(mention), "\(result.error)")
      #expect(result.error.split(separator: "\n").count <= 2)
    }
    #expect(!FileManager.default.fileExists(atPath: scratch.file("o.png")))
  }
}
