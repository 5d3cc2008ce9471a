import Foundation
import Testing
import VASafetensors
import VATensorCore
@testable import VAModels
import VALayers

// Fixtures written by Scripts/reference/swin_fixtures.py (torch 2.15, timm 1.0.31, transformers 5.25.0).
// Regenerate: python3 Scripts/reference/swin_fixtures.py

/// Swin v1 and v2 in timm's and transformers' layouts, against their libraries.
struct SwinTests {
  static let fixtures = ["timm_swin", "timm_swinv2", "hf_swin", "hf_swinv2"]

  /// Every block's attention `[windows, heads, N, N]` (shift mask included, windows in the
  /// library's order) and the logits within 1e-5 of the reference's largest value, at 224×224
  /// and at 120×200 (maps of 15×25 and 8×13: padded windows, an odd map merged, masks over padding).
  @Test(arguments: fixtures, ["reference", "reference2"])
  func matchesItsLibrary(name: String, referenceFile: String) throws {
    let model = try SwinTransformer.load(from: fixturePath(name))
    let reference = try SafetensorsFile(path: fixturePath("\(name)/\(referenceFile).safetensors"))
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"))
    let output = try withGradientsDisabled { try model(input) }
    #expect(output.attention.count == model.configuration.blockCount)
    #expect(output.geometry.map(\.block) == Array(0..<model.configuration.blockCount))
    for (l, weights) in output.attention.enumerated() {
      let expected = try #require(reference.info("attn.\(l)"), "\(name): no attn.\(l)")
      #expect(weights.shape == expected.shape, "\(name) \(referenceFile) attn.\(l): shape \(weights.shape) against \(expected.shape)")
      let g = output.geometry[l]
      #expect([g.windowCount, model.configuration.heads[g.stage], g.tokensPerWindow, g.tokensPerWindow] == expected.shape)
      let error = peakRelativeError(weights.scalars, try reference.floats("attn.\(l)"))
      #expect(error < 1e-5, "\(name) \(referenceFile) attn.\(l): differs by \(error) of the largest value")
    }
    let logits = try #require(output.logits)
    let error = peakRelativeError(logits.scalars, try reference.floats("logits"))
    #expect(error < 1e-5, "\(name) \(referenceFile) logits: differs by \(error) of the largest value")
  }

  /// The fixtures' block metadata: stage, map, window and shift as the libraries size them.
  @Test func geometryAt120x200() throws {
    let model = try SwinTransformer.load(from: fixturePath("timm_swin"))
    let g = model.geometry(imageHeight: 120, imageWidth: 200)
    #expect(g.map(\.stage) == [0, 0, 1, 1])
    #expect(g.map { [$0.height, $0.width] } == [[15, 25], [15, 25], [8, 13], [8, 13]])
    #expect(g.map { [$0.shiftY, $0.shiftX] } == [[0, 0], [3, 3], [0, 0], [3, 3]])
    #expect(g.map(\.windowCount) == [12, 12, 4, 4])
  }

  /// timm's `get_attn_mask`, as written there: nine slice assignments on the padded map, then
  /// label differences. The brute-force reference for `shiftMask`.
  static func timmMask(_ g: SwinBlockGeometry) -> [Float] {
    let (hp, wp) = (g.paddedHeight, g.paddedWidth)
    var labels = [Int](repeating: 0, count: hp * wp)
    // Python slices (start, stop) with negative indices and None; -0 is 0, as in Python.
    func range(_ start: Int, _ stop: Int?, _ extent: Int) -> Range<Int> {
      let s = start < 0 ? extent + start : start
      let e = stop.map { $0 < 0 ? extent + $0 : ($0 == 0 ? 0 : $0) } ?? extent
      return s..<max(s, e)
    }
    var count = 0
    for hs in [(0, -g.windowHeight), (-g.windowHeight, -g.shiftY), (-g.shiftY, nil)] as [(Int, Int?)] {
      for ws in [(0, -g.windowWidth), (-g.windowWidth, -g.shiftX), (-g.shiftX, nil)] as [(Int, Int?)] {
        for y in range(hs.0, hs.1, hp) { for x in range(ws.0, ws.1, wp) { labels[y * wp + x] = count } }
        count += 1
      }
    }
    let n = g.tokensPerWindow
    var out = [Float](repeating: 0, count: g.windowCount * n * n)
    for w in 0..<g.windowCount {
      let (wy, wx) = (w / g.windowsAcross * g.windowHeight, w % g.windowsAcross * g.windowWidth)
      func label(_ t: Int) -> Int { labels[(wy + t / g.windowWidth) * wp + wx + t % g.windowWidth] }
      for i in 0..<n { for j in 0..<n where label(i) != label(j) { out[(w * n + i) * n + j] = -100 } }
    }
    return out
  }

  /// The shift mask's structure: nil without a shift; 0 on the diagonal, symmetric, only 0 or
  /// −100; the first window (no wrapped cells) unmasked; the last window split into four
  /// regions; and equal to timm's slice-assignment mask, with and without padding, with a
  /// shift along one axis only (timm's per-axis clamp).
  @Test(arguments: [(14, 14, 3, 3), (15, 25, 3, 3), (8, 13, 3, 3), (7, 14, 0, 3), (21, 21, 3, 3)])
  func shiftMaskStructure(height: Int, width: Int, shiftY: Int, shiftX: Int) throws {
    let g = SwinBlockGeometry(
      block: 0, stage: 0, height: height, width: width, windowHeight: 7, windowWidth: 7, shiftY: shiftY, shiftX: shiftX, padsBeforeShift: false)
    let mask = try #require(g.shiftMask())
    let n = g.tokensPerWindow
    #expect(mask.count == g.windowCount * n * n)
    #expect(mask.allSatisfy { $0 == 0 || $0 == -100 })
    for w in 0..<g.windowCount {
      for i in 0..<n {
        #expect(mask[(w * n + i) * n + i] == 0)
        for j in 0..<n { #expect(mask[(w * n + i) * n + j] == mask[(w * n + j) * n + i]) }
      }
    }
    #expect(mask[0..<(n * n)].allSatisfy { $0 == 0 }, "the first window holds no wrapped cells")
    let last = Array(mask[((g.windowCount - 1) * n * n)...])
    // Tokens in distinct regions: count distinct rows of the last window's mask.
    let regions = Set((0..<n).map { i in last[(i * n)..<((i + 1) * n)].map { $0 == 0 } })
    #expect(regions.count == (shiftY > 0 ? 2 : 1) * (shiftX > 0 ? 2 : 1))
    #expect(mask == Self.timmMask(g))
    let unshifted = SwinBlockGeometry(
      block: 0, stage: 0, height: height, width: width, windowHeight: 7, windowWidth: 7, shiftY: 0, shiftX: 0, padsBeforeShift: false)
    #expect(unshifted.shiftMask() == nil)
  }

  /// The window order: each real cell sits in exactly one window slot, padding in the rest, and
  /// a shift of s reads cell (y + s, x + s) at (y, x) (timm's `torch.roll(x, -s)`).
  @Test(arguments: [false, true])
  func windowSlotsCoverTheMapOnce(padsBeforeShift: Bool) {
    let g = SwinBlockGeometry(
      block: 0, stage: 0, height: 15, width: 25, windowHeight: 7, windowWidth: 7, shiftY: 3, shiftX: 3, padsBeforeShift: padsBeforeShift)
    let sources = g.sourceCells()
    #expect(sources.count == 21 * 28)
    #expect(sources.compactMap { $0 }.sorted() == Array(0..<(15 * 25)))
    #expect(sources[0] == 3 * 25 + 3)
  }

  /// Every name `timm.list_models('swin*')` gives in timm 1.0.31 is either read (in the
  /// generated table, with its version from its prefix) or refused by name (`swinv2_cr_*`,
  /// timm's `SwinTransformerV2Cr`).
  @Test func timmNamesAreReadOrRefused() {
    let names = [
      "swin_base_patch4_window7_224", "swin_base_patch4_window12_384", "swin_large_patch4_window7_224", "swin_large_patch4_window12_384",
      "swin_s3_base_224", "swin_s3_small_224", "swin_s3_tiny_224", "swin_small_patch4_window7_224", "swin_tiny_patch4_window7_224",
      "swinv2_base_window8_256", "swinv2_base_window12_192", "swinv2_base_window12to16_192to256", "swinv2_base_window12to24_192to384",
      "swinv2_base_window16_256", "swinv2_cr_base_224", "swinv2_cr_base_384", "swinv2_cr_base_ns_224", "swinv2_cr_giant_224",
      "swinv2_cr_giant_384", "swinv2_cr_huge_224", "swinv2_cr_huge_384", "swinv2_cr_large_224", "swinv2_cr_large_384",
      "swinv2_cr_small_224", "swinv2_cr_small_384", "swinv2_cr_small_ns_224", "swinv2_cr_small_ns_256", "swinv2_cr_tiny_224",
      "swinv2_cr_tiny_384", "swinv2_cr_tiny_ns_224", "swinv2_large_window12_192", "swinv2_large_window12to16_192to256",
      "swinv2_large_window12to24_192to384", "swinv2_small_window8_256", "swinv2_small_window16_256", "swinv2_tiny_window8_256",
      "swinv2_tiny_window16_256",
    ]
    #expect(Set(SwinArchitecture.table.keys).isSubset(of: names))
    for name in names {
      do {
        let architecture = try SwinArchitecture(config: ["architecture": name + ".ms_in1k"], path: "config.json")
        #expect(!name.hasPrefix("swinv2_cr_"), "\(name) was read")
        #expect(architecture.version == (name.hasPrefix("swinv2_") ? 2 : 1), "\(name): version \(architecture.version)")
        #expect(architecture.heads.count == architecture.depths.count && architecture.windows.count == architecture.depths.count)
      } catch {
        #expect(name.hasPrefix("swinv2_cr_"), "\(name) refused: \(error)")
        #expect(error.description.contains(name) && error.description.contains("SwinTransformerV2Cr"), "\(error)")
      }
    }
  }

  /// Names outside timm's Swin classes and arguments that change the computation are refused by name.
  @Test func unknownNamesAndArgumentsAreRefused() {
    #expect(throws: CheckpointError.self) { try SwinArchitecture(config: ["architecture": "swin_unknown_224"], path: "c") }
    do {
      _ = try SwinArchitecture(config: ["architecture": "swin_tiny_patch4_window7_224", "model_args": ["always_partition": true]], path: "c")
      Issue.record("always_partition was accepted")
    } catch {
      #expect(error.description.contains("always_partition"))
    }
    #expect(throws: CheckpointError.self) {
      try SwinArchitecture(config: ["architecture": "swin_tiny_patch4_window7_224", "model_args": ["window_size": [7, 14]]], path: "c")
    }
    let square = try? SwinArchitecture(config: ["architecture": "swin_tiny_patch4_window7_224", "model_args": ["window_size": [12, 12]]], path: "c")
    #expect(square?.windows == [12, 12, 12, 12], "two equal ints are one (h, w) window for every stage, as timm reads them")
    #expect(SwinTransformer.isSwinCheckpoint(at: fixturePath("hf_swinv2")) && SwinTransformer.isSwinCheckpoint(at: fixturePath("timm_swin")))
    #expect(!SwinTransformer.isSwinCheckpoint(at: fixturePath("timm_beit")) && !SwinTransformer.isSwinCheckpoint(at: fixturePath("hf_classifier")))
    let s3 = try? SwinArchitecture(config: ["architecture": "swin_s3_tiny_224"], path: "c")
    #expect(s3?.windows == [7, 7, 14, 7])
  }

  /// v2's logit scale is clamped at log(100) before `exp` (timm's and transformers'
  /// `clamp(max=log(1/0.01))`): a scale above it attends exactly as one at it, one below differently.
  @Test func logitScaleIsClampedAtLog100() {
    var rng = SplitMix64(seed: 7)
    let c = 8, heads = 2
    func layer(_ scale: Float) -> SwinWindowAttention {
      var r = SplitMix64(seed: 3)
      return SwinWindowAttention(
        qkv: Linear(inputs: c, outputs: 3 * c, using: &r), projection: Linear(inputs: c, outputs: c, using: &r), headCount: heads,
        logitScale: Tensor(shape: [heads], scalars: [scale, 1]), cpbHidden: Linear(inputs: 2, outputs: 512, using: &r),
        cpbOutput: Linear(inputs: 512, outputs: heads, bias: false, using: &r), pretrainedWindow: [0, 0])
    }
    let x = Tensor.randomNormal([2, 9, c], std: 1, using: &rng)
    let bias = layer(5).positionBias(windowHeight: 3, windowWidth: 3)
    let above = layer(5)(x, bias: bias, mask: nil).weights.scalars
    let at = layer(Float(Foundation.log(100.0)))(x, bias: bias, mask: nil).weights.scalars
    let below = layer(4)(x, bias: bias, mask: nil).weights.scalars
    #expect(peakRelativeError(above, at) < 1e-6)
    #expect(peakRelativeError(above, below) > 1e-3)
  }

  /// timm at 96×224 (maps 12×28, then 6×14): stage 1's window clamps to 6×7, shifted across
  /// only; v1's 13×13 relative position tables are resized to 11×13 as timm's
  /// `checkpoint_filter_fn` does, v2's continuous bias is evaluated on the 6×7 window (offsets
  /// normalised by its pretrained window). Every block's attention and the logits within 1e-5.
  @Test(arguments: ["timm_swin", "timm_swinv2"])
  func timmClampedWindow(name: String) throws {
    let model = try SwinTransformer.load(from: fixturePath(name))
    let reference = try SafetensorsFile(path: fixturePath("\(name)_clamped/reference.safetensors"))
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"))
    let output = try withGradientsDisabled { try model(input) }
    #expect(output.geometry.map { [$0.windowHeight, $0.windowWidth, $0.shiftY, $0.shiftX] } == [[7, 7, 0, 0], [7, 7, 3, 3], [6, 7, 0, 0], [6, 7, 0, 3]])
    for (l, weights) in output.attention.enumerated() {
      #expect(weights.shape == (try #require(reference.info("attn.\(l)"))).shape)
      let error = peakRelativeError(weights.scalars, try reference.floats("attn.\(l)"))
      #expect(error < 1e-5, "\(name) clamped attn.\(l): differs by \(error) of the largest value")
    }
    let error = peakRelativeError(try #require(output.logits).scalars, try reference.floats("logits"))
    #expect(error < 1e-5, "\(name) clamped logits: differs by \(error) of the largest value")
  }

  /// transformers at 122×203: the image is padded to 128×208 with zeros before the patch
  /// embedding (`SwinPatchEmbeddings.maybe_pad`); every block's attention and the logits within 1e-5.
  @Test func huggingFacePadsToThePatch() throws {
    let model = try SwinTransformer.load(from: fixturePath("hf_swin"))
    let reference = try SafetensorsFile(path: fixturePath("hf_swin_padded/reference.safetensors"))
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"))
    let output = try withGradientsDisabled { try model(input) }
    #expect(output.stageSizes.map { [$0.height, $0.width] } == [[16, 26], [8, 13]])
    for (l, weights) in output.attention.enumerated() {
      let error = peakRelativeError(weights.scalars, try reference.floats("attn.\(l)"))
      #expect(error < 1e-5, "padded attn.\(l): differs by \(error) of the largest value")
    }
    let error = peakRelativeError(try #require(output.logits).scalars, try reference.floats("logits"))
    #expect(error < 1e-5, "padded logits: differs by \(error) of the largest value")
  }

  /// transformers' v1 cannot run a clamped window (its table index is for the configured
  /// window); the toolkit refuses it by name instead of guessing.
  @Test func huggingFaceClampedWindowIsRefused() throws {
    let model = try SwinTransformer.load(from: fixturePath("hf_swin"))
    #expect(throws: SwinError.self) { try model(Tensor.zeros([3, 96, 224])) }
  }

  /// A copy of fixture `name` with its tensors renamed by `rename` (nil drops one) and `extra`
  /// added, beside the fixture's configs (all of them, or none); returns the folder.
  func alteredCopy(
    of name: String, configs: Bool = true, extra: [(String, [Int])] = [], rename: (String) -> String?
  ) throws -> String {
    let folder = NSTemporaryDirectory() + "swin-\(name)-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let file = try SafetensorsFile(path: fixturePath("\(name)/model.safetensors"))
    var writer = SafetensorsWriter()
    for info in file.tensors {
      if let renamed = rename(info.name) { writer.add(renamed, shape: info.shape, values: try file.floats(info.name)) }
    }
    for (extraName, shape) in extra { writer.add(extraName, shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *))) }
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
    for config in ["config.json", "preprocessor_config.json"] where configs {
      let source = fixturePath("\(name)/\(config)")
      if FileManager.default.fileExists(atPath: source) { try FileManager.default.copyItem(atPath: source, toPath: folder + "/" + config) }
    }
    return folder
  }

  /// The reference logits of `name` at 224×224 against a model loaded from `folder`.
  func logitsError(_ folder: String, reference name: String) throws -> Float {
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference.safetensors"))
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"))
    let output = try withGradientsDisabled { try SwinTransformer.load(from: folder)(input) }
    return peakRelativeError(try #require(output.logits).scalars, try reference.floats("logits"))
  }

  /// transformers' other spellings of one Swin read the same: the buffers transformers 4 saved
  /// (`relative_position_index`), transformers 5's in-memory v1 names (`q_proj`, `o_proj`,
  /// `relative_position_bias.*`, `mlp.fc1`), and a timm v1 checkpoint without its config (the
  /// architecture read from the tensors).
  @Test func otherSpellingsLoadTheSameModel() throws {
    let buffers = try alteredCopy(
      of: "hf_swin", extra: [("swin.encoder.layers.0.blocks.0.attention.self.relative_position_index", [49, 49])], rename: { $0 })
    #expect(try logitsError(buffers, reference: "hf_swin") < 1e-5)
    let renamed = try alteredCopy(of: "hf_swin") { name in
      name.replacingOccurrences(of: "attention.self.query", with: "attention.q_proj")
        .replacingOccurrences(of: "attention.self.key", with: "attention.k_proj")
        .replacingOccurrences(of: "attention.self.value", with: "attention.v_proj")
        .replacingOccurrences(of: "attention.output.dense", with: "attention.o_proj")
        .replacingOccurrences(of: "attention.self.relative_position_bias_table", with: "attention.relative_position_bias.relative_position_bias_table")
        .replacingOccurrences(of: "intermediate.dense", with: "mlp.fc1").replacingOccurrences(of: "output.dense", with: "mlp.fc2")
    }
    #expect(try logitsError(renamed, reference: "hf_swin") < 1e-5)
    let bare = try alteredCopy(of: "timm_swin", configs: false) { $0 }
    #expect(try logitsError(bare, reference: "timm_swin") < 1e-5)
  }

  /// `SwinModel` / `Swinv2Model` (no prefix, no classifier): the same attention, no logits.
  @Test(arguments: ["hf_swin", "hf_swinv2"])
  func backboneHasNoHead(name: String) throws {
    let prefix = name == "hf_swin" ? "swin." : "swinv2."
    let folder = try alteredCopy(of: name) { $0.hasPrefix("classifier.") ? nil : String($0.dropFirst($0.hasPrefix(prefix) ? prefix.count : 0)) }
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference2.safetensors"))
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"))
    let output = try withGradientsDisabled { try SwinTransformer.load(from: folder)(input) }
    #expect(output.logits == nil)
    let last = output.attention.count - 1
    #expect(peakRelativeError(output.attention[last].scalars, try reference.floats("attn.\(last)")) < 1e-5)
  }

  /// A timm v2 checkpoint without its config is refused: its window shows in no tensor.
  @Test func timmV2WithoutConfigIsRefused() throws {
    let folder = try alteredCopy(of: "timm_swinv2", configs: false) { $0 }
    #expect(throws: CheckpointError.self) { try SwinTransformer.load(from: folder) }
  }

  /// Each library's window sizing on a 56×224 input with patch 8 (maps 7×28, then 4×14): timm
  /// clamps per axis (window 7×7, shift only across), transformers v1 to a square of the smaller
  /// side without shift, transformers v2 from its configured 224 image whatever the input.
  @Test func windowPoliciesFollowTheirLibraries() {
    func geometry(_ policy: SwinConfiguration.WindowPolicy) -> [SwinBlockGeometry] {
      SwinConfiguration(version: .v1, patchSize: 8, embedDimension: 16, depths: [2, 2], heads: [1, 2], windows: [7, 7], windowPolicy: policy)
        .geometry(gridHeight: 7, gridWidth: 28)
    }
    let timm = geometry(.timm)
    #expect(timm.map { [$0.windowHeight, $0.windowWidth, $0.shiftY, $0.shiftX] } == [[7, 7, 0, 0], [7, 7, 0, 3], [4, 7, 0, 0], [4, 7, 0, 3]])
    let hf = geometry(.huggingFace)
    #expect(hf.map { [$0.windowHeight, $0.windowWidth, $0.shiftY, $0.shiftX] } == [[7, 7, 0, 0], [7, 7, 0, 0], [4, 4, 0, 0], [4, 4, 0, 0]])
    #expect(hf.allSatisfy(\.padsBeforeShift) && !timm.contains(where: \.padsBeforeShift))
    let hf2 = geometry(.huggingFaceV2(imageSize: 224))
    #expect(hf2.map { [$0.windowHeight, $0.windowWidth, $0.shiftY, $0.shiftX] } == [[7, 7, 0, 0], [7, 7, 3, 3], [7, 7, 0, 0], [7, 7, 3, 3]])
  }
}
