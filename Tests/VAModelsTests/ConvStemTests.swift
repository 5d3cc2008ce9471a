import Foundation
import Testing
import VALayers
import VATensorCore
import VATestSupport
@testable import VAModels

/// A ViT with a convolutional stem (Xiao et al. 2021) as this toolkit saves it, committed in
/// Fixtures/toolkit_saved_convstem: timm builds it as VisionTransformer with
/// HybridEmbed(ConvStem(...), proj=False), loads it and records its logits in
/// timm_outputs.json (Scripts/reference/vit_convstem_saved_check.py).
struct ConvStemTests {
  static let folder = "toolkit_saved_convstem"

  /// 32 pixels, cells of 4 (two stride-2 convolutions), width 32, two blocks, 5 classes, and
  /// BatchNorm running statistics far from their initial 0 and 1, so evaluation-mode
  /// normalisation is exercised.
  static func model() -> VisionTransformer {
    var rng = SplitMix64(seed: 11)
    var c = ViTConfiguration(patchSize: 4, embedDimension: 32, depth: 2, headCount: 2, imageSize: 32)
    c.classCount = 5
    c.convStem = ConvStemShape.strided(patchSize: 4, width: 32)
    let model = VisionTransformer(c, using: &rng)
    for (i, unit) in model.convStem!.units.enumerated() {
      let n = unit.bn!.channels
      unit.bn!.runningMean.scalars = (0..<n).map { Float(($0 * 7 + i) % 5) * 0.1 - 0.2 }
      unit.bn!.runningVariance.scalars = (0..<n).map { 0.5 + Float(($0 * 3 + i) % 4) * 0.25 }
      unit.bn!.weight.scalars = (0..<n).map { 0.8 + Float($0 % 3) * 0.1 }
      unit.bn!.bias.scalars = (0..<n).map { Float($0 % 4) * 0.05 - 0.05 }
    }
    return model
  }

  @Test func theStemPlanHalvesTheSideToThePatchSize() {
    #expect(ConvStemShape.strided(patchSize: 8, width: 128) == ConvStemShape(hiddenChannels: [32, 64, 128], kernels: [3, 3, 3], strides: [2, 2, 2]))
    #expect(ConvStemShape.strided(patchSize: 4, width: 32)?.totalStride == 4)
    #expect(ConvStemShape.strided(patchSize: 14, width: 128) == nil)
    #expect(ConvStemShape.strided(patchSize: 1, width: 128) == nil)
  }

  @Test func parameterCountCoversTheStem() {
    let m = Self.model()
    #expect(m.parameterCount == m.configuration.parameterCount)
  }

  /// Saving writes exactly the committed files, so the timm check stays about what save() writes.
  @Test func savedConvStemCheckpointIsStable() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convstem-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.model().save(to: folder)
    let fresh = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors"))
    #expect(fresh == (try Data(contentsOf: URL(fileURLWithPath: fixturePath(Self.folder + "/model.safetensors")))))
    let freshConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! NSDictionary
    let committed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixturePath(Self.folder + "/config.json")))) as! NSDictionary
    #expect(freshConfig == committed)
  }

  /// The loaded checkpoint gives timm's logits at the trained size and at a non-square one.
  @Test(arguments: [(32, 32), (32, 48)])
  func timmComputesTheSameLogits(height: Int, width: Int) throws {
    let (loaded, _) = try VisionTransformer.load(from: fixturePath(Self.folder))
    #expect(loaded.convStem?.units.count == 2)
    let image = Tensor(shape: [3, height, width], scalars: (0..<(3 * height * width)).map { Float($0 % 17) / 17 - 0.5 })
    let logits = withGradientsDisabled { loaded(image) }.logits!.scalars
    let outputs = try JSONDecoder().decode([String: [Float]].self, from: Data(contentsOf: URL(fileURLWithPath: fixturePath(Self.folder + "/timm_outputs.json"))))
    let timm = try #require(outputs["\(height)x\(width)"])
    #expect(logits.count == timm.count)
    #expect(zip(logits, timm).allSatisfy { abs($0 - $1) < 1e-5 }, "ours \(logits), timm \(timm)")
  }

  /// Strides are in no tensor: without them in config.json the checkpoint is refused.
  @Test func aStemWithoutItsStridesIsRefused() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convstem-nostride-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: fixturePath(Self.folder + "/model.safetensors"), toPath: folder + "/model.safetensors")
    #expect {
      _ = try VisionTransformer.load(from: folder)
    } throws: { error in
      "\(error)".contains("vision_attention.conv_stem.stride")
    }
  }

  /// Training-mode BatchNorm uses the batch's statistics and moves the running ones;
  /// inference leaves them alone.
  @Test func trainingModeUpdatesTheStemsRunningStatistics() {
    let m = Self.model()
    let before = m.convStem!.units[0].bn!.runningMean.scalars
    let images = Tensor(shape: [2, 3, 32, 32], scalars: (0..<(2 * 3 * 32 * 32)).map { Float($0 % 13) / 13 })
    _ = withGradientsDisabled { m(batch: images) }
    #expect(m.convStem!.units[0].bn!.runningMean.scalars == before)
    _ = withGradientsDisabled { m(batch: images, training: true) }
    #expect(m.convStem!.units[0].bn!.runningMean.scalars != before)
  }
}
