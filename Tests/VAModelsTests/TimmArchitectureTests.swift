import Foundation
import Testing
@testable import VAModels

/// The generated table of timm 1.0.31 names (Scripts/reference/timm_architectures.py).
struct TimmArchitectureTests {
  func parse(_ name: String) -> Result<TimmArchitecture, CheckpointError> {
    Result { () throws(CheckpointError) in try TimmArchitecture(config: ["architecture": name + ".tag"], path: "config.json") }
  }

  @Test func familiesPeopleInspectAreImplemented() throws {
    for name in [
      "vit_base_patch16_224", "vit_small_patch14_dinov2", "vit_small_patch14_reg4_dinov2", "deit3_small_patch16_224",
      "deit_base_distilled_patch16_224", "vit_base_patch16_clip_224", "vit_base_patch16_siglip_224",
      "vit_so400m_patch14_siglip_384", "beit_base_patch16_224", "beitv2_base_patch16_224", "eva02_tiny_patch14_224",
      "eva02_base_patch14_448", "vit_base_patch16_224_miil", "vit_giant_patch14_reg4_dinov2",
    ] {
      if case .failure(let error) = parse(name) { Issue.record("\(name): \(error)") }
    }
    let clip = try parse("vit_large_patch14_clip_quickgelu_336").get()
    #expect(clip.activation == .quick && clip.layerNormEps == 1e-5)
    let siglip = try parse("vit_so400m_patch14_siglip_384").get()
    #expect(siglip.globalPool == "map" && siglip.classToken == false)
    let eva = try parse("eva02_base_patch14_224").get()
    #expect(eva.rotary == RotaryPositions(referenceHeight: 16, referenceWidth: 16) && eva.globalPool == "avg")
  }

  /// Every name either parses or is refused naming what is missing; none is silently taken.
  @Test func everyNameParsesOrIsRefusedByName() {
    var refused: [String] = []
    for name in TimmArchitecture.registry.keys.sorted() {
      if case .failure(let error) = parse(name) {
        #expect(error.description.contains("is not implemented"), "\(name): \(error)")
        refused.append("\(name): \(error.description)")
      }
    }
    #expect(TimmArchitecture.registry.count == 265)  // 251 + 14 naflexvit_*
    print(refused.joined(separator: "\n"))
  }
}
