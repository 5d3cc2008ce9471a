import Foundation
import Testing

/// vit-attend on every checkpoint family, end to end from each fixture's PNG
/// (Tests/VAModelsTests/Fixtures, written by Scripts/reference/vit_family_fixtures.py).
@Suite(.serialized) struct FamilyCheckpointTests {
  static func fixture(_ name: String) -> String { CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(name)") }

  /// Largest difference relative to the reference's largest magnitude.
  func peakRelativeError(_ actual: [Float]?, _ expected: [Float]?) -> Float {
    guard let actual, let expected, actual.count == expected.count, let peak = expected.map(abs).max(), peak > 0 else { return .infinity }
    return zip(actual, expected).map { abs($0 - $1) }.max()! / peak
  }

  /// `--dump` holds the input as the checkpoint's library normalises it, every layer's
  /// attention, the logits and a pooling head's attention, each within 1e-5 of the
  /// reference's largest value.
  @Test(arguments: [
    ("timm_clip_quickgelu", ""), ("timm_deit_distilled", ""), ("timm_siglip", ""), ("timm_beit", ""), ("timm_beit", "2"),
    ("timm_eva02", ""), ("timm_eva02_packed", ""), ("timm_dinov2_swiglu", ""), ("timm_eva02_clip", ""), ("hf_clip", ""), ("hf_siglip", ""), ("hf_siglip_vision", ""),
    ("hf_dinov2", ""), ("hf_dinov2_registers", ""), ("hf_deit_distilled", ""), ("open_clip_quickgelu", ""),
  ])
  func dumpMatchesTheReference(name: String, variant: String) throws {
    let scratch = ScratchFolder()
    let folder = Self.fixture(name)
    let result = try CommandRunner.run([folder + "/input\(variant).png", "--weights", folder, "--resize", "none", "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    #expect(!result.error.contains("warning"), "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    let reference = try DumpFile(path: folder + "/reference\(variant).safetensors")
    for (tensor, shape) in reference.shapes where tensor.hasPrefix("attn.") || tensor == "input" || tensor == "logits" {
      #expect(dump.shapes[tensor] == shape, "\(name) \(tensor): shape \(dump.shapes[tensor] ?? []) against \(shape)")
      let error = peakRelativeError(dump.tensors[tensor], reference.tensors[tensor])
      #expect(error < 1e-5, "\(name) \(tensor): differs by \(error) of the largest value")
    }
    #expect(dump.shapes.keys.filter { $0.hasPrefix("attn.") }.sorted() == reference.shapes.keys.filter { $0.hasPrefix("attn.") }.sorted())
  }

  /// The page on prefix tokens (class + distillation) and on no class token (SigLIP). Every
  /// map's values on every family: FamilyMapValueTests and FamilyFigureValueTests.
  @Test(arguments: ["timm_deit_distilled", "timm_siglip"])
  func thePageIsWritten(name: String) throws {
    let scratch = ScratchFolder()
    let folder = Self.fixture(name)
    let result = try CommandRunner.run([folder + "/input.png", "--weights", folder, "--resize", "none", "--html", scratch.file("p.html")])
    #expect(result.status == 0, "\(name): \(result.error)")
    #expect(try String(contentsOfFile: scratch.file("p.html"), encoding: .utf8).count > 1000)
  }

  /// Every other family's overlay maps on a photo fitted to the model, so grids are
  /// resampled, against their recomputation from the dumped attention.
  @Test(arguments: [
    "timm_clip_quickgelu", "timm_beit", "timm_eva02", "timm_dinov2_swiglu", "hf_clip", "hf_siglip", "hf_dinov2", "hf_dinov2_registers",
    "hf_deit_distilled", "open_clip_quickgelu",
  ])
  func otherFamiliesDrawTheirMapsOnAFittedPhoto(name: String) throws {
    try FamilyMapValueTests.checkOverlayMaps(.init(name: name), image: CommandRunner.repositoryFile("images/cat.png"))
  }

  /// SigLIP has no class token: `--map cls` draws its pooling head's query, and says so.
  @Test func clsFallsBackToThePoolingHead() throws {
    let scratch = ScratchFolder()
    let folder = Self.fixture("timm_siglip")
    let result = try CommandRunner.run([folder + "/input.png", "--weights", folder, "--map", "cls", "--head", "1", "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    // fitted to 32 pixels on the longer side and cropped to 32x16: a 4x2 grid.
    #expect(dump.shapes["attn.pool"] == [4, 1, 8])
  }

  /// Without a config the loader guesses heads, normalisation and input size: each is said on
  /// stderr and in the figure's caption, and the options silence what they set.
  @Test func inferredSettingsAreWarned() throws {
    let scratch = ScratchFolder()
    try FileManager.default.copyItem(atPath: Self.fixture("timm_registers_nonsquare") + "/model.safetensors", toPath: scratch.file("model.safetensors"))
    let image = Self.fixture("timm_siglip") + "/input.png"
    let bare = try CommandRunner.run([image, "--weights", scratch.file("model.safetensors"), "--out", scratch.file("a.png")])
    #expect(bare.status == 0, "\(bare.error)")
    for guess in ["heads inferred as width / 64 = 1", "normalisation inferred as mean 0.5, std 0.5", "input size inferred as 64x64"] {
      #expect(bare.error.contains("warning: \(guess)"), "\(bare.error)")
      #expect(try pngText(scratch.file("a.png"))["model"]?.contains(guess) == true)
    }
    let given = try CommandRunner.run([image, "--weights", scratch.file("model.safetensors"), "--head-count", "2", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225", "--out", scratch.file("b.png")])
    #expect(given.status == 0, "\(given.error)")
    #expect(!given.error.contains("heads inferred") && !given.error.contains("normalisation inferred") && given.error.contains("input size inferred"))
    let bad = try CommandRunner.run([image, "--weights", scratch.file("model.safetensors"), "--mean", "0.5,0.5", "--out", scratch.file("c.png")])
    #expect(bad.status == 64 && bad.error.contains("--mean"), "\(bad.error)")
  }
}
