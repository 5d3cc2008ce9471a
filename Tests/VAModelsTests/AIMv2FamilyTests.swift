import Foundation
import VALayers
import VASafetensors
import VATensorCore
import VATestSupport
import Testing
@testable import VAModels

// Fixtures written by Scripts/reference/aimv2_fixtures.py (torch 2.15, timm 1.0.31).
// Regenerate: python3 Scripts/reference/aimv2_fixtures.py

/// timm's AIMv2 (`aimv2_*`: RmsNorm, an embedding RmsNorm, unpacked SwiGLU, no class token,
/// average pooling) and `test_vit4` (RmsNorm with a plain MLP) against timm.
struct AIMv2FamilyTests {
  /// Every layer's attention, the logits and the final tokens (`forward_features`) within 1e-5
  /// of the reference's largest value, at 224×224 and at 96×160 (pos_embed resampled).
  @Test(arguments: [("timm_aimv2", "reference"), ("timm_aimv2", "reference2"), ("timm_test_vit4", "reference")])
  func matchesTimm(name: String, referenceFile: String) throws {
    try FamilyReference(name, referenceFile, requiring: ["logits", "tokens"])
  }

  /// What the name sets and no tensor shows: RmsNorm everywhere with eps 1e-5, the embedding
  /// norm, SwiGLU from fc1_g/fc1_x, the patch average with no class token.
  @Test func aimv2ConfigurationComesFromTheName() throws {
    let model = try VisionTransformer.load(from: fixturePath("timm_aimv2")).model
    let c = model.configuration
    #expect(c.normKind == .rms && c.layerNormEps == 1e-5 && c.embedNorm)
    #expect(!c.classToken && c.globalPool == .average && !c.fcNorm && c.mlpHiddenDimension == 176)
    #expect(model.patchEmbedding.norm?.kind == .rms && model.norm?.kind == .rms && model.blocks.allSatisfy { $0.mlp.gate != nil })
    #expect(model.namedParameters.count == model.parameters.count)
    let vit4 = try VisionTransformer.load(from: fixturePath("timm_test_vit4")).model.configuration
    #expect(vit4.normKind == .rms && vit4.layerNormEps == 1e-6 && vit4.fcNorm && !vit4.embedNorm && vit4.registerTokens == 1)
    // timm's VisionTransformer(**model_args) cannot be told RmsNorm's eps or an embedding
    // norm through the saved config, so saving refuses rather than writing another model.
    let folder = NSTemporaryDirectory() + "aimv2-save-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(throws: CheckpointError.self) { try model.save(to: folder) }
  }

  /// Backward through a whole RMSNorm model (embedding norm, every block norm, the final norm,
  /// average pooling without a class token, head) against finite differences, for every
  /// parameter: the path the gradient maps take. Tolerance as ViTModelTests' batched check.
  @Test func rmsNormModelGradientsMatchFiniteDifferences() {
    var rng = SplitMix64(seed: 21)
    var configuration = ViTConfiguration(patchSize: 4, embedDimension: 8, depth: 1, headCount: 2, mlpHiddenDimension: 8, imageSize: 8)
    configuration.classToken = false
    configuration.globalPool = .average
    configuration.normKind = .rms
    configuration.embedNorm = true
    configuration.classCount = 3
    let model = VisionTransformer(configuration, using: &rng)
    #expect(model.patchEmbedding.norm?.kind == .rms && model.blocks[0].norm1.bias == nil)
    // timm's init is too small for finite differences to see; give every parameter O(1) values.
    for p in model.parameters { p.scalars = (0..<p.count).map { _ in Float(rng.nextStandardNormal()) * 0.5 } }
    model.setRequiresGrad(true)
    let images = Tensor.randomNormal([2, 3, 8, 8], using: &rng)
    let result = checkGradients(model.parameters, step: 1e-2) { _ in model(batch: images).logits! }
    #expect(result.maxError < 2e-2, "\(result)")
  }

  /// Every `aimv2_*` name timm 1.0.31 registers parses to the same settings; `test_vit4` too.
  @Test func everyAIMv2NameLoadsItsConfig() throws {
    let names = TimmArchitecture.registry.keys.filter { $0.hasPrefix("aimv2_") }.sorted()
    #expect(names.count == 12)
    for name in names {
      let a = try TimmArchitecture(config: ["architecture": name + ".apple_pt"], path: "config.json")
      #expect(a.normKind == .rms && a.layerNormEps == 1e-5 && a.embedNorm, "\(name)")
      #expect(a.classToken == false && a.globalPool == "avg" && a.activation == .exact, "\(name)")
    }
    let vit4 = try TimmArchitecture(config: ["architecture": "test_vit4"], path: "config.json")
    #expect(vit4.normKind == .rms && vit4.layerNormEps == nil && !vit4.embedNorm)
  }

  /// What differs from AIMv2 and is not implemented is refused by name.
  @Test func variantsAreRefusedByName() throws {
    let refused = RefusedVariantTests()
    #expect(try refused.refusal("timm_aimv2", refused.setArgument("embed_norm_layer", "LayerNorm")).contains("embed_norm_layer = LayerNorm is not implemented"))
    #expect(try refused.refusal("timm_aimv2", refused.setArgument("embed_norm_layer", "RmsNorm(eps=1e-06)")).contains("embed_norm_layer = RmsNorm(eps=1e-06)"))
    #expect(try refused.refusal("timm_test_vit4", refused.setArgument("norm_layer", "RmsNorm2d")).contains("norm_layer = RmsNorm2d is not implemented"))
    #expect(try refused.refusal("timm_aimv2", refused.setArgument("act_layer", "gelu")).contains("mlp_layer = SwiGLU is not implemented"))
    #expect(try refused.refusal("timm_aimv2", refused.setArgument("embed_norm_layer", NSNull())).contains("unexpected tensor 'patch_embed.norm.weight'"))
    #expect(try refused.refusal("timm_basic", refused.setArgument("norm_layer", "rmsnorm")).contains("norm_layer = rmsnorm is timm's RmsNorm, which has no bias"))
  }

  /// Apple's original layout (`preprocessor.*`, `trunk.*`), which only timm's
  /// checkpoint_filter_fn remaps, is refused naming it.
  @Test func applesOriginalLayoutIsRefusedByName() throws {
    let folder = NSTemporaryDirectory() + "aimv2-apple-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var writer = SafetensorsWriter()
    writer.add("preprocessor.patchifier.proj.weight", shape: [4, 3, 2, 2], values: [Float](repeating: 0, count: 48))
    writer.add("trunk.blocks.0.norm_1.weight", shape: [4], values: [1, 1, 1, 1])
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
    let message: String
    do {
      _ = try VisionTransformer.load(from: folder)
      message = "loaded"
    } catch {
      message = error.description
    }
    #expect(message.contains("Apple's original AIMv2 layout"))
  }
}
