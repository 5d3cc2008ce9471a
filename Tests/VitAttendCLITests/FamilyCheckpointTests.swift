import Foundation
import Testing
@testable import VisionAttention

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
    ("timm_rope", ""), ("timm_rope", "2"), ("timm_rope_ape", ""), ("timm_rope_ape", "2"), ("timm_rope_mixed", ""), ("timm_rope_mixed", "2"),
    ("timm_rope_reg_gap", ""), ("timm_rope_reg_gap", "2"), ("timm_pe_core", ""), ("timm_pe_core", "2"), ("timm_pe_spatial", ""),
    ("timm_pe_spatial", "2"), ("timm_pe_lang", ""), ("timm_pe_lang", "2"),
    ("timm_dinov3", ""), ("timm_dinov3", "2"), ("timm_dinov3_swiglu", ""), ("timm_dinov3_swiglu", "2"), ("hf_dinov3", ""), ("hf_dinov3", "2"),
    ("hf_dinov3_gated", ""), ("hf_dinov3_gated", "2"),
    ("timm_aimv2", ""), ("timm_aimv2", "2"), ("timm_test_vit4", ""),
    ("timm_naflex", ""), ("timm_naflex", "2"), ("timm_naflex_par", ""), ("timm_naflex_par", "2"),
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

  /// DINOv3ViTModel has no classifier: `--dump`'s `embedding` is its `pooler_output` (the
  /// class token after the final norm), within 1e-5 of transformers' at both input sizes.
  @Test(arguments: ["hf_dinov3", "hf_dinov3_gated"], ["", "2"])
  func dinov3EmbeddingIsThePoolerOutput(name: String, variant: String) throws {
    let scratch = ScratchFolder()
    let folder = Self.fixture(name)
    let result = try CommandRunner.run([folder + "/input\(variant).png", "--weights", folder, "--resize", "none", "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    let reference = try DumpFile(path: folder + "/reference\(variant).safetensors")
    let error = peakRelativeError(dump.tensors["embedding"], reference.tensors["pooled"])
    #expect(error < 1e-5, "\(name)\(variant) embedding: differs by \(error) of the largest value")
  }

  /// NaFlex SigLIP-2 through the default `--resize fit`: the image is sized as
  /// `Siglip2ImageProcessor` sizes it (at most `max_num_patches` patches, aspect ratio kept,
  /// torchvision's uint8 bilinear), so the dumped input is the processor's `pixel_values`
  /// and every layer's attention, the pooled embedding and the pooling head's weights are
  /// its model's, each within 1e-5 of the reference's largest value.
  @Test(arguments: [("hf_siglip2_vision", ""), ("hf_siglip2_vision", "2"), ("hf_siglip2", ""), ("hf_siglip2", "2")])
  func naflexDumpMatchesThroughTheProcessorsResize(name: String, variant: String) throws {
    let scratch = ScratchFolder()
    let folder = Self.fixture(name)
    let result = try CommandRunner.run([folder + "/input\(variant).png", "--weights", folder, "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    #expect(!result.error.contains("warning"), "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    let reference = try DumpFile(path: folder + "/reference\(variant).safetensors")
    let shapes = try #require(reference.tensors["spatial_shapes"]).map { Int($0) }
    #expect(dump.metadata["grid_height"] == String(shapes[0]) && dump.metadata["grid_width"] == String(shapes[1]), "\(name): grid")
    var names = reference.shapes.keys.filter { $0.hasPrefix("attn.") || $0 == "input" }
    names.append("embedding")  // a SigLIP-2 tower has no classifier: its pooled output is dumped
    for tensor in names {
      let expected = tensor == "embedding" ? "pooled" : tensor
      #expect(dump.shapes[tensor] == reference.shapes[expected], "\(name) \(tensor): shape \(dump.shapes[tensor] ?? [])")
      let error = peakRelativeError(dump.tensors[tensor], reference.tensors[expected])
      #expect(error < 1e-5, "\(name)\(variant) \(tensor): differs by \(error) of the largest value")
    }
  }

  /// The `--html` page holds the same run's numbers as its `--dump`, on every family (class
  /// and distillation tokens, registers, no class token, pooling heads): the input's size and
  /// grid, every layer's and head's attention row and the pooling head's rows, each value within
  /// one 8-bit step (its row's maximum / 255) of the dumped one, and the registry's views as its
  /// menu. Every map's values drawn from these: FamilyMapValueTests and FamilyFigureValueTests.
  @Test(arguments: [
    "timm_clip_quickgelu", "timm_deit_distilled", "timm_siglip", "timm_beit", "timm_eva02", "timm_eva02_packed", "timm_dinov2_swiglu", "timm_eva02_clip",
    "hf_clip", "hf_siglip", "hf_siglip_vision", "hf_dinov2", "hf_dinov2_registers", "hf_deit_distilled", "open_clip_quickgelu",
    "timm_rope_mixed", "timm_rope_reg_gap", "timm_pe_core",
    "timm_dinov3", "timm_dinov3_swiglu", "hf_dinov3", "hf_dinov3_gated",
    "timm_aimv2", "hf_siglip2_vision", "hf_siglip2", "timm_naflex", "timm_naflex_par",
  ])
  func thePageHoldsTheDumpedAttention(name: String) throws {
    let scratch = ScratchFolder()
    let folder = Self.fixture(name)
    let (page, dumpPath) = (scratch.file("p.html"), scratch.file("d.safetensors"))
    let result = try CommandRunner.run([folder + "/input.png", "--weights", folder, "--resize", "none", "--html", page, "--dump", dumpPath])
    #expect(result.status == 0, "\(name): \(result.error)")
    let payload = try PagePayload(page: page)
    let dump = try DumpFile(path: dumpPath)

    #expect(dump.shapes["input"] == [3, payload.image.height, payload.image.width], "\(name): input \(dump.shapes["input"] ?? [])")
    #expect(dump.metadata["grid_width"] == String(payload.gridWidth) && dump.metadata["grid_height"] == String(payload.gridHeight), "\(name): grid")
    #expect(payload.gridWidth * payload.patchSize == payload.image.width && payload.gridHeight * payload.patchSize == payload.image.height)
    #expect(payload.tokens == payload.prefixTokens + payload.gridWidth * payload.gridHeight)
    #expect(payload.maps.map(\.name) == MapRegistry.pageViews.map(\.name))

    let t = payload.tokens
    let layers = dump.shapes.keys.filter { $0.hasPrefix("attn.") && Int($0.dropFirst(5)) != nil }.count
    let attention = try #require(payload.attention, "\(name): the page holds no matrices")
    #expect(layers > 0 && payload.layers == layers && attention.rowLength == t && attention.rowCount == layers * payload.heads * t, "\(name): \(layers) layers")
    for l in 0..<layers {
      #expect(dump.shapes["attn.\(l)"] == [payload.heads, t, t], "\(name) attn.\(l)")
      let dumped = try #require(dump.tensors["attn.\(l)"])
      try expectRows(attention, first: l * payload.heads * t, equal: dumped, "\(name) attn.\(l)")
    }
    if let shape = dump.shapes["attn.pool"] {
      let pool = try #require(payload.pool, "\(name): the page has no pooling head")
      #expect(shape == [pool.rowCount, 1, payload.gridWidth * payload.gridHeight] && pool.rowLength == shape[2], "\(name) attn.pool \(shape)")
      try expectRows(pool, first: 0, equal: try #require(dump.tensors["attn.pool"]), "\(name) attn.pool")
    } else {
      #expect(payload.pool == nil, "\(name): a pooling head on the page only")
    }
  }

  /// Rows `first…` of `rows` read back `values` (whole rows, row-major) within one step of
  /// each row's maximum / 255.
  func expectRows(_ rows: PagePayload.Rows, first: Int, equal values: [Float], _ what: String) throws {
    let n = rows.rowLength
    try #require(values.count % n == 0 && first + values.count / n <= rows.rowCount, "\(what): \(values.count) values")
    var worst: (excess: Float, row: Int, column: Int) = (0, 0, 0)
    for r in 0..<(values.count / n) {
      let row = values[(r * n)..<((r + 1) * n)]
      let step = row.max()! / 255
      for (c, v) in row.enumerated() {
        let excess = abs(rows.value(row: first + r, column: c) - v) - step
        if excess > worst.excess { worst = (excess, r, c) }
      }
    }
    #expect(worst.excess <= 0, "\(what): row \(worst.row), column \(worst.column) is \(worst.excess) beyond one step")
  }

  /// Every other family's overlay maps on a photo fitted to the model, so grids are
  /// resampled, against their recomputation from the dumped attention.
  @Test(arguments: [
    "timm_clip_quickgelu", "timm_beit", "timm_eva02", "timm_dinov2_swiglu", "hf_clip", "hf_siglip", "hf_dinov2", "hf_dinov2_registers",
    "hf_deit_distilled", "open_clip_quickgelu", "timm_dinov3", "hf_dinov3_gated", "timm_aimv2",
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
