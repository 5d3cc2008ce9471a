import Foundation
import Testing
import VASafetensors
import VATensorCore

@testable import VAModels

// Fixtures written by Scripts/reference/naflex_fixtures.py (torch 2.15, timm 1.0.31, transformers 5.25.0).
// Regenerate: python3 Scripts/reference/naflex_fixtures.py

/// NaFlex SigLIP-2 (Hugging Face `Siglip2VisionModel`, `Siglip2Model`) and timm's `NaFlexVit`,
/// each on a square and a non-square input whose grid differs from the position table's.
struct NaFlexFamilyTests {
  /// Every layer's attention, the pooled output or logits, the MAP head's attention and the
  /// final tokens within 1e-5 of the reference's largest value, with the position table
  /// resized to the input's grid as the library resizes it.
  @Test(arguments: [
    ("hf_siglip2_vision", "reference"), ("hf_siglip2_vision", "reference2"), ("hf_siglip2", "reference"), ("hf_siglip2", "reference2"),
    ("timm_naflex", "reference"), ("timm_naflex", "reference2"), ("timm_naflex_par", "reference"), ("timm_naflex_par", "reference2"),
  ])
  func naflexMatchesItsLibrary(name: String, referenceFile: String) throws {
    let errors = try FamilyReference(name, referenceFile, requiring: ["tokens"]).errors
    #expect(errors["logits"] != nil || errors["pooled"] != nil, "\(name) \(referenceFile): neither logits nor pooled output")
  }

  /// What no tensor shows is read from the configs: SigLIP-2's processor limit and bilinear
  /// table resize, NaFlexVit's bicubic resize, register token and MAP head.
  @Test func configurationsSetWhatNoTensorShows() throws {
    for name in ["hf_siglip2_vision", "hf_siglip2"] {
      let c = try VisionTransformer.load(from: fixturePath(name)).model.configuration
      #expect(c.maximumPatches == 64 && c.positionResampling == .bilinearAntialiased && c.activation == .tanh)
      #expect(c.positionGridWidth == 16 && c.positionGridHeight == 16 && !c.classToken && c.globalPool == .attention)
    }
    let timm = try VisionTransformer.load(from: fixturePath("timm_naflex")).model.configuration
    #expect(timm.positionResampling == .timm && timm.positionPlacement == .patchesOnly && timm.registerTokens == 1)
    #expect(timm.globalPool == .attention && timm.layerScale && timm.maximumPatches == nil && timm.fitSide == 224)
    let par = try VisionTransformer.load(from: fixturePath("timm_naflex_par")).model.configuration
    #expect(par.positionAspectPreserving && par.globalPool == .average && par.fcNorm && par.registerTokens == 4)
  }

  /// A NaFlex model is not saved in timm's plain layout, which would lose its table resize
  /// and sizing.
  @Test(arguments: ["hf_siglip2_vision", "timm_naflex", "timm_naflex_par"])
  func naflexIsNotSavedAsAPlainViT(name: String) throws {
    let model = try VisionTransformer.load(from: fixturePath(name)).model
    let folder = NSTemporaryDirectory() + "naflex-save-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(throws: CheckpointError.self) { try model.save(to: folder) }
  }

  /// transformers 5 saves `Siglip2VisionModel` without `vision_model.`; 4.x hub files (and
  /// `Siglip2Model`) carry it: the same weights load either way.
  @Test func bothSiglip2KeyLayoutsLoad() throws {
    let bare = try VisionTransformer.load(from: fixturePath("hf_siglip2_vision")).model
    let folder = NSTemporaryDirectory() + "siglip2-prefixed-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let file = try SafetensorsFile(path: fixturePath("hf_siglip2_vision/model.safetensors"))
    var writer = SafetensorsWriter()
    for info in file.tensors { writer.add("vision_model." + info.name, shape: info.shape, values: try file.floats(info.name)) }
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
    try FileManager.default.copyItem(atPath: fixturePath("hf_siglip2_vision/config.json"), toPath: folder + "/config.json")
    try FileManager.default.copyItem(atPath: fixturePath("hf_siglip2_vision/preprocessor_config.json"), toPath: folder + "/preprocessor_config.json")
    let prefixed = try VisionTransformer.load(from: folder).model
    #expect(prefixed.namedParameters.map(\.tensor.scalars) == bare.namedParameters.map(\.tensor.scalars))
  }

  /// Every naflexvit name timm 1.0.31 registers is implemented or refused naming its argument.
  @Test func everyNaFlexNameIsParsedOrRefusedByName() throws {
    let implemented = [
      "naflexvit_base_patch16_gap", "naflexvit_base_patch16_map", "naflexvit_base_patch16_siglip", "naflexvit_so400m_patch16_siglip",
      "naflexvit_so150m2_patch16_reg1_gap", "naflexvit_so150m2_patch16_reg1_map", "naflexvit_base_patch16_par_gap",
    ]
    let refused = [
      "naflexvit_base_patch16_parfac_gap": "pos_embed",
      "naflexvit_base_patch16_radio_v3": "pos_embed_align_corners", "naflexvit_large_patch16_radio_v3": "pos_embed_antialias",
      "naflexvit_huge_patch16_radio_v3": "pos_embed_align_corners", "naflexvit_giant_patch16_radio_v3": "pos_embed_antialias",
      "naflexvit_so400m_patch16_radio_v4": "pos_embed_antialias", "naflexvit_huge_patch16_radio_v4": "pos_embed_antialias",
    ]
    let names = TimmArchitecture.registry.filter { $0.value.modelClass == "NaFlexVit" }.keys.sorted()
    #expect(names == (implemented + refused.keys).sorted())
    for name in implemented {
      let architecture = try TimmArchitecture(config: ["architecture": name], path: name)
      #expect(architecture.positionResampling == (name.hasSuffix("siglip") ? .bilinearAntialiased : .timm), "\(name)")
    }
    for (name, argument) in refused {
      #expect(throws: CheckpointError.self, "\(name)") { try TimmArchitecture(config: ["architecture": name], path: name) }
      do {
        _ = try TimmArchitecture(config: ["architecture": name], path: name)
      } catch {
        #expect("\(error)".contains("model_args \(argument) ="), "\(name): \(error)")
      }
    }
  }
}
