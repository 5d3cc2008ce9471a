import Foundation
import Testing
import VASafetensors
import VATensorCore
@testable import VAModels

// Fixtures written by Scripts/reference/rope_family_fixtures.py (torch 2.15, timm 1.0.31).
// Regenerate: python3 Scripts/reference/rope_family_fixtures.py

/// timm's RoPE ViTs (`vit_*_rope_*`) and Perception Encoder (`vit_pe_*`), both `Eva` with RoPE.
struct RopeFamilyTests {
  static let families = ["timm_rope", "timm_rope_ape", "timm_rope_mixed", "timm_rope_reg_gap", "timm_pe_core", "timm_pe_spatial", "timm_pe_lang"]

  /// The reference's tensor `name` as `[Float]`, with its shape.
  func tensor(_ file: SafetensorsFile, _ name: String) throws -> (shape: [Int], values: [Float]) {
    (try #require(file.info(name), "no \(name)").shape, try file.floats(name))
  }

  /// Every layer's attention, the logits, the pooled features, the pooling head's attention
  /// and the final tokens within 1e-5 of the reference's largest value, at 224×224 and 96×160.
  @Test(arguments: families, ["reference", "reference2"])
  func familyMatchesTimm(name: String, referenceFile: String) throws {
    try FamilyReference(name, referenceFile, requiring: ["logits", "pooled", "tokens"])
  }

  /// With gradients recorded the rotation is composed of differentiable ops (one table per
  /// block and head for mixed RoPE): the same attention and logits, and the input gradient of
  /// the top logit within 1e-5 of PyTorch autograd's (`grad.input`) largest value.
  @Test(arguments: families)
  func gradientsFlowThroughTheRotation(name: String) throws {
    let model = try VisionTransformer.load(from: fixturePath(name)).model
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference2.safetensors"))
    let input = try tensor(reference, "input")
    let x = Tensor(shape: input.shape, scalars: input.values, requiresGrad: true)
    let output = model(x, recordAttention: true)
    for (l, weights) in output.attention.enumerated() {
      #expect(peakRelativeError(weights.scalars, try reference.floats("attn.\(l)")) < 1e-5, "\(name) layer \(l) with gradients")
    }
    let logits = try #require(output.logits)
    #expect(peakRelativeError(logits.scalars, try reference.floats("logits")) < 1e-5, "\(name): logits with gradients")
    let top = logits.scalars.indices.max { logits.scalars[$0] < logits.scalars[$1] }!
    var seed = [Float](repeating: 0, count: logits.count)
    seed[top] = 1
    logits.backward(gradient: Tensor(shape: logits.shape, scalars: seed))
    let error = peakRelativeError(try #require(x.grad).scalars, try reference.floats("grad.input"))
    #expect(error < 1e-5, "\(name): input gradient differs from autograd's by \(error) of its largest value")
  }

  /// Every timm 1.0.31 name of these families parses, with the rotary settings its
  /// arguments give; none is refused or guessed.
  @Test func everyRopeAndPerceptionEncoderNameParses() throws {
    let names = TimmArchitecture.registry.keys.filter { $0.contains("_rope_") || $0.hasPrefix("vit_pe_") }.sorted()
    #expect(names.count == 28)
    for name in names {
      let arguments = TimmArchitecture.registry[name]!.arguments
      let parsed = Result { () throws(CheckpointError) in try TimmArchitecture(config: ["architecture": name + ".tag"], path: "config.json") }
      guard case .success(let architecture) = parsed else {
        Issue.record("\(name): \(parsed)")
        continue
      }
      let rotary = try #require(architecture.rotary, "\(name): no rotary settings")
      #expect(rotary.columnsFirst == (arguments["rope_grid_indexing"] == "xy"), "\(name)")
      #expect(rotary.learnedFrequencies == (arguments["rope_type"] == "mixed"), "\(name)")
      if !rotary.learnedFrequencies {
        #expect(rotary.temperature == Float(arguments["rope_temperature"] ?? "10000"), "\(name)")
        #expect(rotary.gridOffset == Float(arguments["rope_grid_offset"] ?? "0"), "\(name)")
        let reference = arguments["ref_feat_shape"].map { $0.split(separator: ",").compactMap { Int($0) } }
        #expect(rotary.referenceHeight == reference?.first && rotary.referenceWidth == reference?.last, "\(name)")
      }
    }
    let pe = try TimmArchitecture(config: ["architecture": "vit_pe_core_base_patch16_224"], path: "config.json")
    #expect(pe.globalPool == "map" && pe.poolHeadCount == 8 && pe.rotary?.gridOffset == 1)
  }

  /// What the fixtures' names set and no tensor shows reaches the model.
  @Test func namesSetTheirVariant() throws {
    let core = try VisionTransformer.load(from: fixturePath("timm_pe_core")).model
    #expect(core.configuration.poolIncludesPrefix && core.configuration.preNorm && core.configuration.poolHeadCount == 8)
    let mixed = try VisionTransformer.load(from: fixturePath("timm_rope_mixed")).model
    #expect(mixed.rotaryFrequencies?.shape == [2, 2, 2, 16] && mixed.configuration.rotary?.learnedFrequencies == true)
    let gap = try VisionTransformer.load(from: fixturePath("timm_rope_reg_gap")).model.configuration
    #expect(gap.registerTokens == 1 && !gap.classToken && gap.globalPool == .average && gap.rotary?.columnsFirst == false)
  }
}
