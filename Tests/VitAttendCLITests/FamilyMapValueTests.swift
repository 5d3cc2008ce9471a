import Foundation
import Testing
import VAImageIO

/// Every map on every checkpoint family, checked by value. Each run dumps the attention it
/// drew from; the dump is checked against the family's reference (timm / transformers /
/// open_clip, `Scripts/reference/vit_family_fixtures.py`), and the figure against the map
/// recomputed in the test from that dump (`MapOracle`). Figures are drawn in gray at full
/// opacity with nearest upsampling, so each patch's pixels read back as its normalised value.
@Suite(.serialized) struct FamilyMapValueTests {
  /// The families whose fixture has an input image at the model's size and a class token or
  /// pooling head to draw `cls` from (timm_rope_reg_gap, registers and the patch mean, is
  /// checked through its dump in FamilyCheckpointTests).
  static let families = [
    "timm_clip_quickgelu", "timm_deit_distilled", "timm_siglip", "timm_beit", "timm_eva02", "timm_eva02_packed", "timm_eva02_clip",
    "timm_dinov2_swiglu", "hf_clip", "hf_siglip", "hf_siglip_vision", "hf_dinov2", "hf_dinov2_registers", "hf_deit_distilled",
    "open_clip_quickgelu", "timm_rope", "timm_rope_ape", "timm_rope_mixed", "timm_pe_core", "timm_pe_spatial", "timm_pe_lang",
    "timm_dinov3", "timm_dinov3_swiglu", "hf_dinov3", "hf_dinov3_gated", "timm_aimv2", "hf_siglip2_vision", "hf_siglip2", "timm_naflex",
    "timm_naflex_par", "timm_rope_reg_gap", "timm_test_vit4",
  ]
  /// The families whose figures the cell-reading tests (FamilyFigureValueTests) read: NaFlex
  /// SigLIP-2's inputs are sized by its processor, which those tests' `--resize none` skips
  /// (its maps are read from the dump above).
  static let figureFamilies = families.filter { !$0.hasPrefix("hf_siglip2") }
  /// Gray figures: the map's normalised value is the pixel's gray level within 2/255.
  static let gray = ["--colormap", "gray", "--alpha", "1", "--upsample", "nearest"]
  static let tolerance = 3.0 / 255

  /// What the test knows of a family without asking the library.
  struct Family {
    let name: String
    var folder: String { CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(name)") }
    /// The 224×224 fixtures' maps are drawn on their second input (96×160): a heads figure's
    /// cells are at most 180 pixels wide, and 14 patches shrunk into them fill no whole blocks.
    static let drawnOnSecondInput: Set = [
      "timm_rope", "timm_rope_ape", "timm_rope_mixed", "timm_pe_core", "timm_pe_spatial", "timm_pe_lang",
      "timm_dinov3", "timm_dinov3_swiglu", "hf_dinov3", "hf_dinov3_gated", "timm_aimv2", "timm_naflex", "timm_naflex_par",
      "timm_rope_reg_gap",
    ]
    var variant: String { Self.drawnOnSecondInput.contains(name) ? "2" : "" }
    var input: String { folder + "/input\(variant).png" }
    var reference: String { folder + "/reference\(variant).safetensors" }
    var hasClassToken: Bool { !name.contains("siglip") && !name.contains("naflex") && !["toolkit_saved_map", "timm_aimv2", "timm_rope_reg_gap", "timm_test_vit4"].contains(name) }
    /// A MAP pooling head (SigLIP, NaFlex's map variant): without a class token its query is the
    /// `cls` map; average pooling (AIMv2) has neither, so `cls` is refused and the default map
    /// is the centre query.
    var hasPoolHead: Bool { name.contains("siglip") || name == "toolkit_saved_map" || name == "timm_naflex" }
    /// NaFlex SigLIP-2's reference went through its processor's resize (`--resize fit`, the
    /// default); every other family's input is at the model's size.
    var resize: [String] { name.hasPrefix("hf_siglip2") ? [] : ["--resize", "none"] }
    /// A target for the gradient maps of an image tower: the family's own when its width is
    /// not the shared one's 48.
    var targetEmbedding: String {
      let own = folder + "/target_embedding.safetensors"
      return FileManager.default.fileExists(atPath: own) ? own : CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/target_embedding.safetensors")
    }
    var isClassifier: Bool { name.hasPrefix("timm_") || name == "hf_deit_distilled" }
    var isDistilled: Bool { name.hasSuffix("deit_distilled") }
  }

  /// The model input's grid, from a dump: `[3, H, W]` input and `[heads, T, T]` attention;
  /// the patch size is the one that leaves 0 to 5 prefix tokens.
  struct Grid {
    let width: Int, height: Int, patch: Int, tokens: Int
    var columns: Int { width / patch }
    var rows: Int { height / patch }
    var patches: Int { columns * rows }
    var prefix: Int { tokens - patches }

    init(_ dump: DumpFile) throws {
      let input = try #require(dump.shapes["input"]), t = try #require(dump.shapes["attn.0"])[1]
      let (w, h) = (input[2], input[1])
      patch = try #require([4, 8, 14, 16].first { p in w % p == 0 && h % p == 0 && (0...5).contains(t - (w / p) * (h / p)) })
      (width, height, tokens) = (w, h, t)
    }

    /// The pixel at the centre of patch `(c, r)`, for `--query`.
    func centre(_ c: Int, _ r: Int) -> String { "\(c * patch + patch / 2),\(r * patch + patch / 2)" }
  }

  /// Runs `vit-attend` on the family's input at its own size with `arguments`, writing a
  /// figure and a dump.
  static func run(_ family: Family, _ arguments: [String], image: String? = nil, in scratch: ScratchFolder) throws -> (figure: Image, dump: DumpFile) {
    let (png, dump) = (scratch.file("f.png"), scratch.file("d.safetensors"))
    let input = image.map { [$0] } ?? [family.input] + family.resize
    let result = try CommandRunner.run(input + ["-w", family.folder, "-o", png, "--dump", dump] + gray + arguments)
    #expect(result.status == 0, "\(family.name) \(arguments): \(result.error)")
    return (try Image(contentsOfFile: png).rgb(), try DumpFile(path: dump))
  }

  /// The pooling head's map `[N]`: its one query's weights over the patches, heads combined.
  static func poolMap(_ dump: DumpFile, _ heads: MapOracle.Heads) throws -> [Double] {
    let shape = try #require(dump.shapes["attn.pool"]), values = try #require(dump.tensors["attn.pool"])
    let rows = (0..<shape[0]).map { h in values[(h * shape[2])..<((h + 1) * shape[2])].map(Double.init) }
    switch heads {
    case .head(let h): return rows[h]
    case .mean: return (0..<shape[2]).map { j in rows.reduce(0) { $0 + $1[j] } / Double(rows.count) }
    case .max: return (0..<shape[2]).map { j in rows.map { $0[j] }.max()! }
    case .min: return (0..<shape[2]).map { j in rows.map { $0[j] }.min()! }
    }
  }

  /// The token rows a classifier or image tower pools, as weights `[T]`: an attention-pooling
  /// head's weights (mean of its heads), DeiT's class and distillation tokens (the logits
  /// average their heads), every patch for timm's `global_pool: avg`, else the class token.
  static func readout(_ family: Family, _ grid: Grid, _ dump: DumpFile) throws -> [Double] {
    var readout = [Double](repeating: 0, count: grid.tokens)
    let config = (try? Data(contentsOf: URL(fileURLWithPath: family.folder + "/config.json")))
      .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    if dump.shapes["attn.pool"] != nil {
      for (j, w) in try poolMap(dump, .mean).enumerated() { readout[grid.prefix + j] = w }
    } else if family.isDistilled {
      (readout[0], readout[1]) = (0.5, 0.5)
    } else if config?["global_pool"] as? String == "avg" {
      for j in grid.prefix..<grid.tokens { readout[j] = 1 / Double(grid.patches) }
    } else {
      readout[0] = 1
    }
    return readout
  }

  /// Largest difference relative to the reference's largest magnitude.
  static func peakRelativeError(_ actual: [Float]?, _ expected: [Float]?) -> Float {
    guard let actual, let expected, actual.count == expected.count, let peak = expected.map(abs).max(), peak > 0 else { return .infinity }
    return zip(actual, expected).map { abs($0 - $1) }.max()! / peak
  }

  /// The overlay maps (default, query, cls, rollout): the dumped attention is the
  /// reference's, and each figure is its map recomputed from that attention.
  @Test(arguments: families) func overlayMapsAreTheirRecomputation(name: String) throws {
    let family = Family(name: name)
    let reference = try DumpFile(path: family.reference)
    let dump = try Self.checkOverlayMaps(family)
    for (tensor, shape) in reference.shapes where tensor.hasPrefix("attn.") {
      #expect(dump.shapes[tensor] == shape, "\(name) \(tensor)")
      let error = Self.peakRelativeError(dump.tensors[tensor], reference.tensors[tensor])
      #expect(error < 1e-5, "\(name) \(tensor): differs from the reference by \(error) of its largest value")
    }
    #expect(MapOracle.layers(dump).count == reference.shapes.keys.filter { $0.hasPrefix("attn.") && $0 != "attn.pool" }.count)
  }

  /// Draws the default, query, cls and rollout maps of `image` (the family's input at its own
  /// size by default) bare, and checks each figure against its map recomputed from the
  /// dumped attention, for a chosen head, fusion, layer and query patch. Returns the dump of
  /// the default map.
  @discardableResult
  static func checkOverlayMaps(_ family: Family, image: String? = nil) throws -> DumpFile {
    let name = family.name
    let scratch = ScratchFolder()
    // The default figure's map: the class token's attention at the last layer (mean of the
    // heads), else the pooling head's query.
    let (plain, dump) = try run(family, ["--style", "bare"], image: image, in: scratch)
    let grid = try Grid(dump)
    let layers = MapOracle.layers(dump)
    let block = (grid.patch, grid.patch)
    func patchesOf(_ row: [Double]) -> [Double] { Array(row[grid.prefix...]) }
    func check(_ figure: Image, _ expected: [Double], _ what: String) {
      #expect((figure.width, figure.height) == (grid.width, grid.height), "\(name) \(what)")
      let shown = FigureReader.blocks(figure, gridWidth: grid.columns, gridHeight: grid.rows, block: block)
      let error = FigureReader.worst(shown, MapOracle.normalised(expected))
      #expect(error <= tolerance, "\(name) \(what): the figure differs from the recomputed map by \(error)")
    }
    let last = layers.count - 1
    if family.hasClassToken || family.hasPoolHead {
      check(plain, try family.hasClassToken ? patchesOf(layers[last].row(0, .mean)) : poolMap(dump, .mean), "default")
    } else {
      // Neither: the default map is the query at the centre patch the figure names.
      let centre = try #require(try pngText(scratch.file("f.png"))["query-patch"]?.split(separator: ",").compactMap { Int($0) }, "\(name): no query patch")
      check(plain, patchesOf(layers[last].row(grid.prefix + centre[1] * grid.columns + centre[0], .mean)), "default (centre query)")
    }

    // --map query at a patch off the centre, one head, given in the model input's pixels
    // (the image's own when it is at the model's size).
    let (qc, qr) = (grid.columns * 2 / 3, grid.rows / 3)
    let q = image == nil ? ["-q", grid.centre(qc, qr)] : []
    let (query, _) = try run(family, ["--style", "bare", "-m", "query", "--head", "1"] + q, image: image, in: scratch)
    // On another image, the default query (its centre) at the patch the figure names.
    let named = try pngText(scratch.file("f.png"))["query-patch"]?.split(separator: ",").compactMap { Int($0) }
    let resolved = try #require(named, "\(name): the figure names no query patch")
    let (qx, qy) = (resolved[0], resolved[1])
    // The query names that patch when the image is used at its own size (a resized NaFlex
    // input maps the pixel elsewhere; the figure is still checked at the patch it names).
    if image == nil && !family.resize.isEmpty { #expect(resolved == [qc, qr]) }
    check(query, patchesOf(layers[last].row(grid.prefix + qy * grid.columns + qx, .head(1))), "query (\(qx),\(qy)) head 1")

    // --map cls at the first layer, the heads' maximum (the pooling head's without a class token).
    if family.hasClassToken || family.hasPoolHead {
      let (cls, _) = try run(family, ["--style", "bare", "-m", "cls", "--layer", "0", "--fuse", "max"], image: image, in: scratch)
      check(cls, try family.hasClassToken ? patchesOf(layers[0].row(0, .max)) : poolMap(dump, .max), "cls layer 0 max")
    } else {
      let refused = try CommandRunner.run([image ?? family.input, "-w", family.folder, "-o", scratch.file("c.png"), "-m", "cls"])
      #expect(refused.status != 0 && refused.error.contains("--map cls needs a model with a class token"), "\(name): \(refused.error)")
    }

    // --map rollout: the dumped [T, T] rollout and the figure's row (class token, else the query's).
    let (rollout, rolloutDump) = try run(family, ["--style", "bare", "-m", "rollout"] + q, image: image, in: scratch)
    let expected = MapOracle.rollout(layers)
    let dumped = try #require(rolloutDump.tensors["rollout"]).map(Double.init)
    #expect(rolloutDump.shapes["rollout"] == [grid.tokens, grid.tokens])
    #expect(FigureReader.worst(dumped, expected) < 1e-5, "\(name) rollout")
    let t = grid.tokens, token = family.hasClassToken ? 0 : grid.prefix + qy * grid.columns + qx
    check(rollout, patchesOf(Array(expected[(token * t)..<((token + 1) * t)])), "rollout")
    return dump
  }

  /// The gradient maps (Chefer's gradient rollout, Grad-CAM, attention × gradient): the
  /// figure is the dumped tensor read out as the model pools (class token, DeiT's two tokens,
  /// SigLIP's pooling weights). The dumped tensors themselves are checked against PyTorch
  /// autograd in AttributionTests. Image towers follow a target embedding.
  @Test(arguments: families) func gradientMapsShowTheirDumpedTensor(name: String) throws {
    let family = Family(name: name)
    let scratch = ScratchFolder()
    let target = family.isClassifier ? [] : ["--target-embedding", family.targetEmbedding]
    for map in ["gradrollout", "gradcam", "attngrad"] {
      let (figure, dump) = try Self.run(family, ["--style", "bare", "-m", map, "--layer", "0"] + target, in: scratch)
      let grid = try Grid(dump)
      let values = try #require(dump.tensors[map], "\(name) dumps no \(map)")
      let readout = try Self.readout(family, grid, dump)
      let expected = map == "gradcam" ? values.map(Double.init) : MapOracle.readoutMap(values, readout: readout, patches: grid.patches)
      #expect(expected.count == grid.patches, "\(name) \(map)")
      let shown = FigureReader.blocks(figure, gridWidth: grid.columns, gridHeight: grid.rows, block: (grid.patch, grid.patch))
      let error = FigureReader.worst(shown, MapOracle.normalised(expected))
      #expect(error <= Self.tolerance, "\(name) \(map): the figure differs from the dumped map by \(error)")
      // Grad-CAM is rectified: a random tiny model's may be all zero (hf_clip's here), drawn black.
      let levels = Set(MapOracle.normalised(expected).map { ($0 * 20).rounded() })
      #expect(map == "gradcam" || levels.count >= 3, "\(name) \(map): a map of \(levels.count) values checks little")
    }
  }
}
