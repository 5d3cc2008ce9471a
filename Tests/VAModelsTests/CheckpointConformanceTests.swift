import Foundation
import VALayers
import VASafetensors
import VATensorCore
import Testing
@testable import VAModels

// Fixtures written by Scripts/reference/vit_fixtures.py (torch 2.15, timm 1.0.31,
// transformers 5.24, seed 0). Regenerate: python3 Scripts/reference/vit_fixtures.py

func fixturePath(_ relative: String) -> String {
  Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
}

struct CheckpointConformanceTests {
  @Test(arguments: [
    ("timm_basic", CheckpointLayout.timm), ("timm_registers_nonsquare", .timm), ("timm_nonsquare_resample", .timm),
    ("hf_classifier", .huggingFace), ("hf_backbone", .huggingFace),
  ])
  func matchesTheReferenceImplementation(name: String, layout: CheckpointLayout) throws {
    let (model, loadedLayout) = try VisionTransformer.load(from: fixturePath(name))
    #expect(loadedLayout == layout)
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference.safetensors"))
    let inputShape = try #require(reference.info("input")).shape
    let input = Tensor(shape: inputShape, scalars: try reference.floats("input"))
    let output = withGradientsDisabled { model(input, recordAttention: true) }

    #expect(output.attention.count == model.configuration.depth)
    for (l, weights) in output.attention.enumerated() {
      #expect(weights.shape == (try #require(reference.info("attn.\(l)"))).shape, "layer \(l) shape")
      let error = peakRelativeError(weights.scalars, try reference.floats("attn.\(l)"))
      #expect(error < 1e-5, "\(name) layer \(l): attention differs by \(error) of its largest value")
    }
    let tokenError = peakRelativeError(output.tokens.scalars, try reference.floats("final"))
    #expect(tokenError < 1e-5, "\(name): final tokens differ by \(tokenError) of the largest")
    if reference.info("logits") != nil {
      let error = peakRelativeError(try #require(output.logits).scalars, try reference.floats("logits"))
      #expect(error < 1e-5, "\(name): logits differ by \(error) of the largest")
    } else {
      #expect(output.logits == nil)
    }
  }

  @Test func configurationIsReadFromTheFiles() throws {
    let timm = try VisionTransformer.load(from: fixturePath("timm_registers_nonsquare")).model.configuration
    #expect(timm.registerTokens == 4 && timm.positionPlacement == .patchesOnly && timm.layerScale && timm.fcNorm)
    #expect(timm.globalPool == .average && timm.headCount == 2 && timm.mean == [0.485, 0.456, 0.406])
    let hf = try VisionTransformer.load(from: fixturePath("hf_classifier")).model.configuration
    #expect(hf.layerNormEps == 1e-12 && hf.positionResampling == .huggingFace && hf.headCount == 4 && hf.classCount == 5)
  }

  @Test(arguments: ["timm.5x3", "timm.7x9", "hf.5x3", "hf.7x9"])
  func positionGridsResampleLikeTheLibraries(name: String) throws {
    let file = try SafetensorsFile(path: fixturePath("posembed_resample.safetensors"))
    let size = name.split(separator: ".")[1].split(separator: "x").map { Int($0)! }
    let convention: PositionResampling = name.hasPrefix("timm") ? .timm : .huggingFace
    let out = convention.resample(try file.floats("grid"), from: (4, 6), to: (size[0], size[1]), dimension: 8)
    let expected = try file.floats(name)
    let worst = zip(out, expected).map { abs($0 - $1) }.max()!
    #expect(out.count == expected.count && worst < 1e-5, "\(name): differs by \(worst)")
  }
}
