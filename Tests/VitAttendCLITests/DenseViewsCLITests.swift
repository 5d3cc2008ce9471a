import Foundation
import Testing
import VAImageIO

/// `--map pca` and `--map norms` through `vit-attend`, against scikit-learn and numpy on the
/// same model run through timm (`Scripts/reference/dense_views_fixtures.py`): the dumps'
/// `features`, `pca`, `norms`; a folder run's shared `pca.safetensors` and each image's
/// projections with it; `--pca-from` reproducing them; `index.jsonl`'s `high_norm_tokens`.
@Suite(.serialized) struct DenseViewsCLITests {
  static let fixture = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/dense_views")
  static let checkpoint = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_registers_nonsquare")
  static let names = ["coffee64", "cat64", "astronaut48x80"]

  static func expected() throws -> DumpFile { try DumpFile(path: fixture + "/expected.safetensors") }

  /// Largest difference over the reference's largest magnitude (at least 1).
  static func error(_ got: [Float]?, _ want: [Float]?) -> Float {
    guard let got, let want, got.count == want.count else { return .infinity }
    let peak = max(want.map(abs).max() ?? 0, 1)
    return zip(got, want).map { abs($0 - $1) }.max().map { $0 / peak } ?? 0
  }

  /// `vit-attend IMAGE -w fixture --resize none ARGS --dump`, the dump read back.
  static func dump(_ image: String, _ arguments: [String], in scratch: ScratchFolder) throws -> DumpFile {
    let path = scratch.file("d.safetensors")
    let result = try CommandRunner.run(["\(fixture)/\(image).png", "-w", checkpoint, "--resize", "none", "--dump", path] + arguments)
    #expect(result.status == 0, "\(arguments): \(result.error)")
    return try DumpFile(path: path)
  }

  @Test(arguments: names) func dumpsMatchTheReference(_ name: String) throws {
    let scratch = ScratchFolder()
    let want = try Self.expected()
    let pca = try Self.dump(name, ["--map", "pca"], in: scratch)
    let t = pca.shapes["features"]?[0] ?? 0, gw = Int(pca.metadata["grid_width"] ?? "") ?? 0, gh = Int(pca.metadata["grid_height"] ?? "") ?? 0
    #expect(pca.shapes["features"] == [t, 64] && pca.shapes["pca"] == [3, gh, gw] && t == 5 + gw * gh)
    #expect(Self.error(pca.tensors["features"], want.tensors["\(name).features"]) < 1e-5)
    #expect(Self.error(pca.tensors["pca"], want.tensors["\(name).pca"]) < 1e-4, "\(name) pca")
    // The attention is not what this map reads: the dump keeps rows, not [heads, T, T].
    #expect(pca.metadata["attention-dump"] == "rows" && pca.tensors["attn.0"] == nil)

    let layer1 = try Self.dump(name, ["--map", "pca", "--layer", "1"], in: scratch)
    #expect(Self.error(layer1.tensors["features"], want.tensors["\(name).features.1"]) < 1e-5)
    #expect(Self.error(layer1.tensors["pca"], want.tensors["\(name).pca.layer1"]) < 1e-4)

    let auto = try Self.dump(name, ["--map", "pca", "--foreground", "auto"], in: scratch)
    #expect(Self.error(auto.tensors["foreground_threshold"], want.tensors["\(name).otsu"]) < 1e-4)
    #expect(auto.tensors["foreground"] == want.tensors["\(name).fg.auto.mask"])
    #expect(Self.error(auto.tensors["pca"], want.tensors["\(name).fg.auto"]) < 1e-4, "\(name) auto")
    let fixed = try Self.dump(name, ["--map", "pca", "--foreground", "0.5"], in: scratch)
    #expect(fixed.tensors["foreground"] == want.tensors["\(name).fg.0.5.mask"])
    #expect(Self.error(fixed.tensors["pca"], want.tensors["\(name).fg.0.5"]) < 1e-4, "\(name) 0.5")

    let norms = try Self.dump(name, ["--map", "norms"], in: scratch)
    #expect(norms.shapes["norms"] == [3, t])
    #expect(Self.error(norms.tensors["norms"], want.tensors["\(name).norms"]) < 1e-5)
  }

  /// Every timm family fixture: the tokens its library returns, their PCA and each block's
  /// token norms, through each layout's forward (pre-norm, BEiT's bias, EVA-02's rotary,
  /// SwiGLU, registers, a distillation token, a MAP head without a class token).
  @Test(arguments: [
    "timm_basic", "timm_clip_quickgelu", "timm_deit_distilled", "timm_siglip", "timm_beit", "timm_eva02", "timm_eva02_packed",
    "timm_eva02_clip", "timm_dinov2_swiglu", "timm_dinov3", "timm_dinov3_swiglu", "timm_rope", "timm_rope_mixed", "timm_rope_reg_gap", "timm_pe_core", "timm_aimv2", "timm_naflex",
  ])
  func everyTimmFamilyMatchesTheReference(_ family: String) throws {
    let scratch = ScratchFolder()
    let want = try DumpFile(path: Self.fixture + "/families.safetensors")
    let folder = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(family)")
    let input = family == "timm_basic" ? "\(Self.fixture)/coffee64.png" : "\(folder)/input.png"
    var dumps: [String: DumpFile] = [:]
    for map in ["pca", "norms"] {
      let path = scratch.file("\(map).safetensors")
      let result = try CommandRunner.run([input, "-w", folder, "--resize", "none", "--map", map, "--dump", path])
      #expect(result.status == 0, "\(family) \(map): \(result.error)")
      dumps[map] = try DumpFile(path: path)
    }
    #expect(Self.error(dumps["pca"]?.tensors["features"], want.tensors["\(family).features"]) < 1e-5, "\(family) features")
    #expect(Self.error(dumps["pca"]?.tensors["pca"], want.tensors["\(family).pca"]) < 1e-4, "\(family) pca")
    #expect(Self.error(dumps["norms"]?.tensors["norms"], want.tensors["\(family).norms"]) < 1e-5, "\(family) norms")
  }

  /// Three principal components need at least 4 patches: a 16x8 image (2 patches of 8) is
  /// refused with the count, as is a fit of another dimension (below).
  @Test func refusesTooFewPatches() throws {
    let scratch = ScratchFolder()
    let tiny = scratch.file("tiny.png")
    try Image(width: 16, height: 8, channels: 3, pixels: (0..<(16 * 8 * 3)).map { UInt8($0 % 251) }).writePNG(to: tiny)
    let result = try CommandRunner.run([tiny, "-w", Self.checkpoint, "--resize", "none", "--map", "pca", "-o", scratch.file("t.png")])
    #expect(result.status != 0 && result.error.contains("--map pca needs at least 4 patches for three principal components, got 2"), "\(result.error)")
  }

  /// A folder run fits one PCA over every image's patches (saved as `pca.safetensors`),
  /// draws each image with it, and `--pca-from` draws a single image in the same colours.
  @Test func folderRunSharesOnePCAAndPCAFromReusesIt() throws {
    let scratch = ScratchFolder()
    let want = try Self.expected()
    let inputs = scratch.file("in"), out = scratch.file("out"), dumps = scratch.file("dumps")
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    for name in Self.names { try FileManager.default.copyItem(atPath: "\(Self.fixture)/\(name).png", toPath: "\(inputs)/\(name).png") }
    let result = try CommandRunner.run([inputs, "-w", Self.checkpoint, "--resize", "none", "--map", "pca", "--out-dir", out, "--dump-dir", dumps])
    #expect(result.status == 0, "\(result.error)")
    let fit = try DumpFile(path: out + "/pca.safetensors")
    #expect(fit.shapes["mean"] == [64] && fit.shapes["components"] == [3, 64] && fit.shapes["explained_variance"] == [3])
    #expect(Self.error(fit.tensors["mean"], want.tensors["folder.mean"]) < 1e-5)
    #expect(Self.error(fit.tensors["components"], want.tensors["folder.components"]) < 1e-4)
    #expect(Self.error(fit.tensors["explained_variance"], want.tensors["folder.explained_variance"]) < 1e-4)
    for name in Self.names {
      let dump = try DumpFile(path: "\(dumps)/\(name).safetensors")
      #expect(Self.error(dump.tensors["pca"], want.tensors["folder.\(name).pca"]) < 1e-4, "\(name)")
    }
    let again = try Self.dump("cat64", ["--map", "pca", "--pca-from", out + "/pca.safetensors"], in: scratch)
    #expect(Self.error(again.tensors["pca"], want.tensors["folder.cat64.pca"]) < 1e-4)

    // A fit of other tokens is refused by name.
    let other = scratch.file("other")
    let dinov2 = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_dinov2_swiglu")
    let fitted = try CommandRunner.run([inputs, "-w", dinov2, "--map", "pca", "--out-dir", other])
    #expect(fitted.status == 0, "\(fitted.error)")
    let refused = try CommandRunner.run(["\(Self.fixture)/cat64.png", "-w", Self.checkpoint, "--map", "pca", "--pca-from", other + "/pca.safetensors", "-o", scratch.file("x.png")])
    #expect(refused.status != 0 && refused.error.contains("the fit is over 48-channel tokens but this model's tokens have 64 channels"), "\(refused.error)")
  }

  /// Shards write their statistics; `--merge` adds them up into the same fit as one run.
  @Test func shardsMergeTheirStatistics() throws {
    let scratch = ScratchFolder()
    let want = try Self.expected()
    let inputs = scratch.file("in"), out = scratch.file("out")
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    for name in Self.names { try FileManager.default.copyItem(atPath: "\(Self.fixture)/\(name).png", toPath: "\(inputs)/\(name).png") }
    for shard in ["1/2", "2/2"] {
      let result = try CommandRunner.run([inputs, "-w", Self.checkpoint, "--resize", "none", "--map", "pca", "--out-dir", out, "--shard", shard])
      #expect(result.status == 0, "\(result.error)")
    }
    #expect(!FileManager.default.fileExists(atPath: out + "/pca.safetensors"))
    let merged = try CommandRunner.run(["--merge", out])
    #expect(merged.status == 0 && merged.error.contains("a PCA of 188 patches"), "\(merged.error)")
    let fit = try DumpFile(path: out + "/pca.safetensors")
    #expect(Self.error(fit.tensors["components"], want.tensors["folder.components"]) < 1e-4)
    #expect(Self.error(fit.tensors["explained_variance"], want.tensors["folder.explained_variance"]) < 1e-4)
  }

  /// `index.jsonl` lists each layer's high-norm tokens, as numpy finds them.
  @Test func indexListsHighNormTokens() throws {
    let scratch = ScratchFolder()
    let want = try Self.expected()
    let inputs = scratch.file("in"), out = scratch.file("out")
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    for name in Self.names { try FileManager.default.copyItem(atPath: "\(Self.fixture)/\(name).png", toPath: "\(inputs)/\(name).png") }
    for (factor, tag) in [(["--norm-factor", "1.2"], "1.2"), ([], "4")] {
      let result = try CommandRunner.run([inputs, "-w", Self.checkpoint, "--resize", "none", "--map", "norms", "--out-dir", out] + factor)
      #expect(result.status == 0, "\(result.error)")
      let lines = try String(contentsOfFile: out + "/index.jsonl", encoding: .utf8).split(separator: "\n")
      for line in lines {
        let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let name = ((record["input"] as! String) as NSString).deletingPathExtension
        let high = try #require(record["high_norm_tokens"] as? [[Int]], "\(line)")
        let mask = try #require(want.tensors["\(name).high.\(tag)"])
        let t = mask.count / 3
        let expected = (0..<3).map { l in (0..<t).filter { mask[l * t + $0] == 1 } }
        #expect(high == expected, "\(name) factor \(tag)")
      }
    }
  }
}
