import Foundation
import Layers
import TensorCore
import Testing
@testable import Models

struct ViTModelTests {
  /// timm 1.0.31's `sum(p.numel() for p in VisionTransformer(...).parameters())` at 224
  /// pixels with 1000 classes, for every preset (google-research/vision_transformer keeps the
  /// same kind of table).
  static let timmParameterCounts: [(ViTConfiguration.Size, Int, Int)] = [
    (.tiny, 8, 5_719_720), (.tiny, 14, 5_694_376), (.tiny, 16, 5_717_416), (.tiny, 32, 6_131_560),
    (.small, 8, 22_055_272), (.small, 14, 22_004_584), (.small, 16, 22_050_664), (.small, 32, 22_878_952),
    (.base, 8, 86_576_872), (.base, 14, 86_475_496), (.base, 16, 86_567_656), (.base, 32, 88_224_232),
    (.large, 8, 304_338_920), (.large, 14, 304_203_752), (.large, 16, 304_326_632), (.large, 32, 306_535_400),
  ]

  @Test func everyPresetIsInTheTableAndMatchesTimm() {
    #expect(Self.timmParameterCounts.count == ViTConfiguration.Size.allCases.count * 4)
    for (size, patch, expected) in Self.timmParameterCounts {
      #expect(ViTConfiguration.preset(size, patchSize: patch).parameterCount == expected, "ViT-\(size.rawValue)/\(patch)")
    }
  }

  @Test func anInstantiatedModelHasTheCountedParameters() {
    var rng = SplitMix64(seed: 1)
    let model = VisionTransformer(ViTConfiguration.preset(.tiny, patchSize: 32), using: &rng)
    #expect(model.parameterCount == 6_131_560)
  }

  @Test func savedModelsLoadBackWithIdenticalLogits() throws {
    var rng = SplitMix64(seed: 2)
    var configuration = ViTConfiguration(patchSize: 8, embedDimension: 32, depth: 2, headCount: 2, imageSize: 32)
    configuration.registerTokens = 2
    configuration.layerScale = true
    configuration.classCount = 6
    let model = VisionTransformer(configuration, using: &rng)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vit-save-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try model.save(to: folder)
    let (loaded, layout) = try VisionTransformer.load(from: folder)
    #expect(layout == .timm && loaded.configuration.registerTokens == 2 && loaded.configuration.layerScale)
    let image = Tensor.randomNormal([3, 24, 40], using: &rng)
    let a = withGradientsDisabled { model(image) }, b = withGradientsDisabled { loaded(image) }
    #expect(a.logits!.scalars == b.logits!.scalars)
  }

  @Test func unknownTensorsAndWrongShapesAreNamed() throws {
    var rng = SplitMix64(seed: 3)
    let model = VisionTransformer(ViTConfiguration(patchSize: 8, embedDimension: 16, depth: 1, headCount: 2, imageSize: 16), using: &rng)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vit-bad-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try model.save(to: folder)
    // Rewrite the weights with an extra tensor.
    let file = (folder as NSString).appendingPathComponent("model.safetensors")
    var writer = SafetensorsWriterCopy.copy(file)
    writer.add("blocks.0.attn.q_norm.weight", shape: [8], values: [Float](repeating: 1, count: 8))
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: file))
    #expect {
      try VisionTransformer.load(from: folder)
    } throws: { "\($0)".contains("unexpected tensor 'blocks.0.attn.q_norm.weight'") }
  }
}

/// Writes a saved model where a developer can check it with timm (not part of CI):
/// VISION_ATTENTION_SAVE_CHECK=/tmp/folder swift test --filter savedModelForTimm
@Test func savedModelForTimm() throws {
  guard let folder = ProcessInfo.processInfo.environment["VISION_ATTENTION_SAVE_CHECK"] else { return }
  var rng = SplitMix64(seed: 7)
  var configuration = ViTConfiguration(patchSize: 8, embedDimension: 32, depth: 2, headCount: 2, imageSize: 32)
  configuration.registerTokens = 2
  configuration.classCount = 6
  let model = VisionTransformer(configuration, using: &rng)
  try model.save(to: folder)
  let image = Tensor(shape: [3, 32, 32], scalars: (0..<3072).map { Float($0 % 17) / 17 - 0.5 })
  let logits = withGradientsDisabled { model(image) }.logits!.scalars
  try JSONSerialization.data(withJSONObject: logits.map(Double.init)).write(to: URL(fileURLWithPath: folder + "/swift_logits.json"))
}
