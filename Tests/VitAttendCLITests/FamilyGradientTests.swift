import Foundation
import Testing
import VASafetensors
import VATensorCore
@testable import VisionAttention

/// The gradient maps (Chefer's gradient rollout, attention × gradient, Grad-CAM) of every
/// checkpoint family against PyTorch autograd in the family's own library (timm,
/// transformers, open_clip), for two targets each: the top class and a middling one, or for a
/// model without a classifier the cosine similarity of its pooled embedding with two fixed
/// random vectors. This checks the backward of every family's forward: EVA-02's rotary, BEiT's
/// relative position bias (also at a second grid), the attention-pooling heads, CLIP's
/// pre-norm and quick GELU, DINOv2's SwiGLU and layer scale, DeiT's distillation head, the
/// Hugging Face and open_clip layouts.
///
/// Written by Scripts/reference/family_gradient_fixtures.py (torch 2.15, timm 1.0.31,
/// transformers 5.25.0, open_clip_torch 3.3.0), whose docstring gives the definitions.
/// Regenerate: python3 Scripts/reference/family_gradient_fixtures.py
/// A new family is one name in `families` here and one in the script's FAMILIES.
@Suite struct FamilyGradientTests {
  /// Fixture folders of Tests/VAModelsTests/Fixtures; `name@2` is the folder's second input.
  static let families = [
    "timm_basic", "timm_registers_nonsquare", "timm_nonsquare_resample", "timm_clip_quickgelu", "timm_deit_distilled", "timm_siglip",
    "timm_beit", "timm_beit@2", "timm_eva02", "timm_eva02_packed", "timm_eva02_clip", "timm_dinov2_swiglu", "toolkit_saved",
    "toolkit_saved_map", "toolkit_saved_convstem", "hf_classifier", "hf_backbone", "hf_clip", "hf_siglip", "hf_siglip_vision",
    "hf_dinov2", "hf_dinov2_registers", "hf_deit_distilled", "open_clip_quickgelu",
    "timm_rope@2", "timm_rope_ape@2", "timm_rope_mixed@2", "timm_rope_reg_gap@2", "timm_pe_core@2", "timm_pe_spatial@2", "timm_pe_lang@2",
    "timm_dinov3@2", "timm_dinov3_swiglu@2", "hf_dinov3@2", "hf_dinov3_gated@2", "timm_aimv2@2", "timm_test_vit4",
    "hf_siglip2_vision", "hf_siglip2", "timm_naflex@2", "timm_naflex_par@2",
  ]
  /// Each map within this fraction of its reference's largest magnitude.
  static let tolerance = 1e-5

  /// Largest difference relative to the reference's largest magnitude. A reference that is
  /// all zero (a Grad-CAM whose every patch was rectified away) must be matched by zeros.
  static func errorOfMaximum(_ got: some Collection<Float>, _ want: some Collection<Float>) -> Double {
    guard got.count == want.count else { return .infinity }  // a shape mismatch fails the expectation that reads it
    let scale = Double(want.map { abs($0) }.max() ?? 0)
    let worst = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return scale == 0 ? (worst == 0 ? 0 : .infinity) : worst / scale
  }

  @Test(arguments: families) func gradientMapsMatchPyTorchAutograd(name: String) throws {
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/families/\(name).safetensors"))
    let folder = String(name.prefix { $0 != "@" })
    let model = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(folder)"))
    let input = try #require(reference.tensors["input"]), shape = try #require(reference.shapes["input"])
    let targets: [AttributionTarget]
    if reference.tensors["logits"] != nil {
      targets = try [0, 1].map { .classIndex(Int(try #require(reference.tensors["class.\($0)"])[0])) }
    } else {
      targets = try [0, 1].map { .embedding(try #require(reference.tensors["target.\($0)"])) }
    }
    let batch = Tensor(shape: [2] + shape, scalars: input + input)
    let maps = try model.model.attributions(batch: batch, targets: targets)
    var worst: [String] = []
    for (i, a) in maps.enumerated() {
      let what = "\(name) target \(i)"
      if let logits = reference.tensors["logits"] {
        #expect(Self.errorOfMaximum(try #require(a.logits), logits) < Self.tolerance, "\(what) logits")
      } else {
        #expect(Self.errorOfMaximum(a.embedding, try #require(reference.tensors["embedding"])) < Self.tolerance, "\(what) embedding")
        #expect(abs(Double(a.score - (try #require(reference.tensors["score.\(i)"]))[0])) < 1e-5, "\(what) cosine")
      }
      let t = a.tokens
      #expect(reference.shapes["gradrollout.\(i)"] == [t, t], "\(what): T")
      #expect(reference.shapes["gradcam.\(i)"] == [a.gridHeight, a.gridWidth], "\(what): grid")
      // Each error against PyTorch's float32 maps and against the same in float64 (`exact.*`):
      // on peaky fixtures float32 autograd is itself up to about 1e-5 from the exact map, so a
      // map within the tolerance of either agrees with PyTorch as closely as PyTorch with itself.
      func errors(_ prefix: String) throws -> (rollout: Double, added: Double, map: Double, cam: Double, layers: [Double]) {
        let wantRollout = try #require(reference.tensors["\(prefix)gradrollout.\(i)"])
        // R = I + ..., so its maximum is about 1 and the identity hides what the layers add
        // (under a layer scale of 1e-5 they add 1e-6): the off-diagonal entries, which hold
        // their own float32 precision, are checked against their own maximum too.
        let offDiagonal = (0..<(t * t)).filter { $0 / t != $0 % t }
        let terms = try #require(reference.tensors["\(prefix)attngrad.\(i)"])
        #expect(terms.count == a.attentionGradient.count * t * t, "\(what): layers")
        return (
          Self.errorOfMaximum(a.gradRollout, wantRollout),
          Self.errorOfMaximum(offDiagonal.map { a.gradRollout[$0] }, offDiagonal.map { wantRollout[$0] }),
          // The figure's map: the readout row(s) over the patches.
          Self.errorOfMaximum(a.gradRolloutMap, a.patchMap(of: wantRollout)),
          Self.errorOfMaximum(a.gradCAM, try #require(reference.tensors["\(prefix)gradcam.\(i)"])),
          a.attentionGradient.indices.map { l in Self.errorOfMaximum(a.attentionGradient[l], terms[(l * t * t)..<((l + 1) * t * t)]) }
        )
      }
      let float32 = try errors(""), exact = try errors("exact.")
      let rollout = min(float32.rollout, exact.rollout), added = min(float32.added, exact.added), map = min(float32.map, exact.map)
      let cam = min(float32.cam, exact.cam)
      let perLayer = zip(float32.layers, exact.layers).map { min($0, $1) }
      #expect(rollout < Self.tolerance, "\(what) gradrollout: \(rollout) of its maximum")
      #expect(added < Self.tolerance, "\(what) gradrollout off the diagonal: \(added) of its maximum")
      #expect(map < Self.tolerance, "\(what) gradrollout map: \(map) of its maximum")
      #expect(cam < Self.tolerance, "\(what) gradcam: \(cam) of its maximum")
      for (l, e) in perLayer.enumerated() { #expect(e < Self.tolerance, "\(what) attngrad layer \(l): \(e) of its maximum") }
      worst.append(
        String(
          format: "target %d: gradrollout %.1e (off-diagonal %.1e, map %.1e), gradcam %.1e, attngrad %.1e", i, rollout, added, map, cam,
          perLayer.max() ?? 0))
    }
    // The measured errors, for the closing table (swift test prints them with --verbose).
    print("\(name): " + worst.joined(separator: "; "))
  }

  /// Every reference the script wrote is checked here: a family appended to the script's
  /// FAMILIES and regenerated but not to `families` fails.
  @Test func everyWrittenReferenceIsChecked() throws {
    let folder = CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/families")
    let written = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }
    #expect(Set(written.map { String($0.dropLast(".safetensors".count)) }) == Set(Self.families))
  }

  /// The same maps through `vit-attend --dump`, from the family's PNG at its own size (the
  /// reference's input is that PNG normalised), for the second target: `--class K` (not the
  /// default top-1), or `--target-embedding` with the second vector written to a file.
  @Test(arguments: families) func dumpedGradientMapsMatchPyTorchAutograd(name: String) throws {
    let (folder, variant) = (String(name.prefix { $0 != "@" }), name.contains("@") ? String(name.split(separator: "@")[1]) : "")
    let png = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(folder)/input\(variant).png")
    guard FileManager.default.fileExists(atPath: png) else { return }  // a fixture without an image (checked in-process above)
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/families/\(name).safetensors"))
    let scratch = ScratchFolder()
    var target: [String]
    if let k = reference.tensors["class.1"] {
      target = ["--class", String(Int(k[0]))]
    } else {
      var file = SafetensorsWriter()
      let vector = try #require(reference.tensors["target.1"])
      file.add("text", shape: [vector.count], values: vector)
      try Data(file.serialized()).write(to: URL(fileURLWithPath: scratch.file("target.safetensors")))
      target = ["--target-embedding", scratch.file("target.safetensors")]
    }
    let layers = try #require(reference.shapes["attngrad.1"])[0], t = try #require(reference.shapes["gradrollout.1"])[0]
    var measured: [String] = []
    for map in ["gradrollout", "gradcam", "attngrad"] {
      let dump = scratch.file("\(map).safetensors")
      // NaFlex SigLIP-2's reference input went through its processor's resize (the default fit).
      let resize = name.hasPrefix("hf_siglip2") ? [] : ["--resize", "none"]
      let arguments = [png] + resize + ["-w", CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(folder)"), "-m", map]
      let run = try CommandRunner.run(arguments + ["--layer", "\(layers - 1)", "-o", scratch.file("\(map).png"), "--dump", dump] + target)
      #expect(run.status == 0, "\(name) \(map): \(run.error)")
      let file = try DumpFile(path: dump)
      #expect(Self.errorOfMaximum(try #require(file.tensors["input"]), try #require(reference.tensors["input"])) < 1e-6, "\(name): input")
      let got = try #require(file.tensors[map], "\(name) dumps no \(map)")
      // Against PyTorch's float32 map or its float64 one, as in the in-process test.
      let error = try ["", "exact."].map { prefix in
        var want = try #require(reference.tensors["\(prefix)\(map).1"])
        if map == "attngrad" { want = Array(want[((layers - 1) * t * t)...]) }  // the last layer's term
        return Self.errorOfMaximum(got, want)
      }.min()!
      #expect(error < Self.tolerance, "\(name) \(map) through the command: \(error) of its maximum")
      measured.append(String(format: "%@ %.1e", map, error))
    }
    print("\(name) through vit-attend --dump, target 1: " + measured.joined(separator: ", "))
  }
}
