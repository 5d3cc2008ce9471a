import Foundation
import VASafetensors
import VATensorCore
import Testing
@testable import VAModels

// Fixtures written by Scripts/reference/dinov3_fixtures.py (torch 2.15, timm 1.0.31,
// transformers 5.25.0). Regenerate: python3 Scripts/reference/dinov3_fixtures.py

/// DINOv3 in timm's layout (`Eva` with `rope_type='dinov3'`, GELU and SwiGLU sizes) and in
/// transformers' (`DINOv3ViTModel`, hub and in-memory block names, plain and gated MLP),
/// each against its library at 224×224 and at 96×160 (DINOv3 has no position table: the
/// rotary coordinates are normalised per grid).
struct DINOv3FamilyTests {
  static let fixtures = ["timm_dinov3", "timm_dinov3_swiglu", "hf_dinov3", "hf_dinov3_gated"]

  /// Every layer's attention, the logits or pooled output and the final tokens within 1e-5 of
  /// the reference's largest value.
  @Test(arguments: fixtures, ["reference", "reference2"])
  func matchesItsLibrary(name: String, referenceFile: String) throws {
    let checked = try FamilyReference(name, referenceFile, requiring: ["tokens"])
    #expect(checked.model.configuration.registerTokens == 4 && checked.model.configuration.positionEmbedding == .none)
    #expect(checked.errors["logits"] != nil || checked.errors["pooled"] != nil, "\(name) \(referenceFile): neither logits nor pooled output")
  }

  /// Every timm name built with DINOv3's rope either loads its config or is refused naming
  /// the argument that is not implemented.
  @Test func everyDINOv3NameParsesOrIsRefusedByName() {
    let names = TimmArchitecture.registry.filter { $0.value.arguments["rope_type"] == "dinov3" }.keys.sorted()
    #expect(names.count >= 13)
    for name in names {
      do throws(CheckpointError) {
        let parsed = try TimmArchitecture(config: ["architecture": name + ".tag"], path: "config.json")
        #expect(parsed.rotary?.scheme == .dinov3Timm && parsed.rotary?.temperature == 100, "\(name)")
      } catch {
        #expect(error.description.contains("is not implemented"), "\(name): \(error)")
        #expect(error.description.contains("model_args "), "\(name): \(error)")
      }
    }
    for name in ["vit_small_patch16_dinov3", "vit_base_patch16_dinov3_qkvb", "vit_huge_plus_patch16_dinov3", "vit_7b_patch16_dinov3", "vit_small_plus_patch16_dinov3_qkvb"] {
      #expect((try? TimmArchitecture(config: ["architecture": name], path: "config.json")) != nil, "\(name) is refused")
    }
  }

  /// DINOv3's settings that no tensor shows: an interleaved layout, another grid indexing and
  /// SwiGLU weights without a config are refused, naming the setting.
  @Test func unimplementedSettingsAreRefused() throws {
    func parse(_ arguments: [String: Any]) -> String {
      do throws(CheckpointError) {
        _ = try TimmArchitecture(config: ["architecture": "vit_small_patch16_dinov3", "model_args": arguments], path: "config.json")
        return "loaded"
      } catch {
        return error.description
      }
    }
    #expect(parse(["rope_rotate_half": false]).contains("rope_rotate_half = false is not implemented"))
    #expect(parse(["rope_grid_indexing": "xy"]).contains("rope_grid_indexing = xy is not implemented"))
    #expect(parse(["rope_rescale_coords": 2.0]) == "loaded")  // a training-time augmentation
    let folder = NSTemporaryDirectory() + "dinov3-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for fixture in ["timm_dinov3_swiglu", "hf_dinov3"] {
      try? FileManager.default.removeItem(atPath: folder + "/model.safetensors")
      try FileManager.default.copyItem(atPath: fixturePath("\(fixture)/model.safetensors"), toPath: folder + "/model.safetensors")
      #expect(throws: CheckpointError.self) { try VisionTransformer.load(from: folder, headCount: 2) }
    }
  }

  /// transformers' settings that no tensor shows and this loader does not implement are
  /// refused by name; hub checkpoints' `[height, width]` image_size is read.
  @Test func huggingFaceSettingsAreReadOrRefused() throws {
    func load(_ edit: (inout [String: Any]) -> Void) throws -> String {
      let folder = NSTemporaryDirectory() + "hf-dinov3-" + UUID().uuidString
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: folder) }
      try FileManager.default.copyItem(atPath: fixturePath("hf_dinov3_gated/model.safetensors"), toPath: folder + "/model.safetensors")
      let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("hf_dinov3_gated/config.json")))
      var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      edit(&config)
      try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
      do {
        let model = try VisionTransformer.load(from: folder).model
        return "loaded \(model.configuration.imageWidth)x\(model.configuration.imageHeight)"
      } catch {
        return error.description
      }
    }
    #expect(try load { $0["hidden_act"] = "gelu" }.contains("hidden_act 'gelu' is not supported with use_gated_mlp = true"))
    #expect(try load { $0["use_gated_mlp"] = false }.contains("use_gated_mlp = false but model.layer.0.mlp.gate_proj is present"))
    #expect(try load { $0["model_type"] = "dinov2" }.contains("model_type 'dinov2' is not implemented"))
    #expect(try load { $0["image_size"] = [96, 160] } == "loaded 160x96")
  }
}
