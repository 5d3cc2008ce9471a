import Foundation
import VALayers
import VATensorCore
import Testing
import VATestSupport
@testable import VAModels

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

  /// A batch runs every image through the same ops at once: each image's logits, tokens and
  /// attention match its own single-image pass (to GEMM rounding: batching changes blocking).
  @Test(arguments: [ViTConfiguration.GlobalPool.token, .average, .attention])
  func aBatchMatchesImageByImage(pool: ViTConfiguration.GlobalPool) {
    var rng = SplitMix64(seed: 9)
    var configuration = ViTConfiguration(patchSize: 8, embedDimension: 32, depth: 2, headCount: 4, imageSize: 32)
    configuration.registerTokens = 1
    configuration.globalPool = pool
    configuration.classCount = 5
    let model = VisionTransformer(configuration, using: &rng)
    let images = Tensor.randomNormal([3, 3, 24, 40], using: &rng)
    let batch = withGradientsDisabled { model(batch: images, recordAttention: true) }
    #expect(batch.logits!.shape == [3, 5] && batch.tokens.shape == [3, 17, 32] && batch.attention[1].shape == [3, 4, 17, 17])
    for i in 0..<3 {
      let single = withGradientsDisabled { model(images.sliced(axis: 0, range: i..<(i + 1)).squeezed(0), recordAttention: true) }
      let pairs = [(single.logits!, batch.logits!), (single.tokens, batch.tokens), (single.attention[1], batch.attention[1])]
      for (one, many) in pairs {
        let row = many.sliced(axis: 0, range: i..<(i + 1)).squeezed(0)
        #expect(one.shape == row.shape)
        #expect(zip(one.scalars, row.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($0)) })
      }
    }
  }

  /// `startAsMean`: with a zero query the pool's attention is uniform, and the head then
  /// returns exactly the tokens' mean (identity value and output projections, zero MLP
  /// output); the keys' rows and the query are left as they were.
  @Test func anAttentionPoolStartedAsTheMeanPoolsTheMean() {
    var rng = SplitMix64(seed: 4)
    var configuration = ViTConfiguration(patchSize: 8, embedDimension: 16, depth: 1, headCount: 2, imageSize: 16)
    (configuration.classToken, configuration.globalPool, configuration.classCount) = (false, .attention, 3)
    let pool = VisionTransformer(configuration, using: &rng).attentionPool!
    let keys = Array(pool.keyValue.weight.scalars[0..<(16 * 16)])
    pool.startAsMean()
    #expect(Array(pool.keyValue.weight.scalars[0..<(16 * 16)]) == keys)
    #expect(pool.query.weight.scalars.contains { $0 != 0 })
    pool.query.weight.scalars = [Float](repeating: 0, count: pool.query.weight.count)
    pool.query.bias?.scalars = [Float](repeating: 0, count: 16)
    let tokens = Tensor.randomNormal([2, 5, 16], using: &rng)
    let (pooled, weights) = withGradientsDisabled { pool(tokens, record: true) }
    #expect(weights!.scalars.allSatisfy { abs($0 - 0.2) < 1e-6 })
    let mean = tokens.mean(axis: 1)
    #expect(zip(pooled.scalars, mean.scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "\(pooled.scalars) vs \(mean.scalars)")
  }

  /// Backward through the whole batched model (patch embedding, class and register tokens,
  /// positions, a block, pooling (class token, mean, attention-pooling head), head) against
  /// finite differences, for every parameter.
  @Test(arguments: [ViTConfiguration.GlobalPool.token, .average, .attention])
  func batchedGradientsMatchFiniteDifferences(pool: ViTConfiguration.GlobalPool) {
    var rng = SplitMix64(seed: 12)
    var configuration = ViTConfiguration(patchSize: 4, embedDimension: 8, depth: 1, headCount: 2, mlpHiddenDimension: 8, imageSize: 8)
    configuration.registerTokens = 1
    configuration.globalPool = pool
    configuration.classCount = 3
    let model = VisionTransformer(configuration, using: &rng)
    // timm's init is too small for finite differences to see; give every parameter O(1) values.
    for p in model.parameters { p.scalars = (0..<p.count).map { _ in Float(rng.nextStandardNormal()) * 0.5 } }
    model.setRequiresGrad(true)
    let images = Tensor.randomNormal([2, 3, 8, 8], using: &rng)
    let result = checkGradients(model.parameters, step: 1e-2) { _ in model(batch: images).logits! }
    #expect(result.maxError < 2e-2, "\(result)")
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

/// Checkpoints this toolkit saves, as committed in Fixtures/toolkit_saved (class token,
/// registers, LayerScale) and Fixtures/toolkit_saved_map (no class token, timm's attention-
/// pooling head, `global_pool='map'`): timm loads each with strict=True and its logits are
/// recorded in timm_logits.json (Scripts/reference/vit_toolkit_saved_check.py).
struct ToolkitCheckpointTests {
  static let fixtures = ["toolkit_saved", "toolkit_saved_map"]

  static func model(_ fixture: String) -> VisionTransformer {
    var rng = SplitMix64(seed: 7)
    var configuration = ViTConfiguration(patchSize: 8, embedDimension: 32, depth: 2, headCount: 2, imageSize: 32)
    configuration.classCount = 6
    if fixture == "toolkit_saved_map" {
      (configuration.classToken, configuration.globalPool) = (false, .attention)
    } else {
      configuration.registerTokens = 2
      configuration.layerScale = true
    }
    let model = VisionTransformer(configuration, using: &rng)
    if let pool = model.attentionPool {
      // timm's initial weights make the pool's attention uniform and the logits ~1e-4; larger
      // ones give uneven attention per head and logits of order one, so 1e-5 tests something.
      for (k, tensor) in (pool.parameters + model.head!.parameters).enumerated() {
        tensor.scalars = tensor.scalars.indices.map { Float(sin(Double($0 * 7 + k))) * 0.5 }
      }
    }
    return model
  }

  /// Saving writes exactly the committed weights file, so the timm check below stays about
  /// what save() writes today.
  @Test(arguments: fixtures) func savedCheckpointIsStable(fixture: String) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vit-stable-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.model(fixture).save(to: folder)
    let fresh = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors"))
    let committed = try Data(contentsOf: URL(fileURLWithPath: fixturePath("\(fixture)/model.safetensors")))
    #expect(fresh == committed)
    let freshConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! NSDictionary
    let committedConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixturePath("\(fixture)/config.json")))) as! NSDictionary
    #expect(freshConfig == committedConfig)
  }

  @Test(arguments: fixtures) func timmComputesTheSameLogitsFromOurCheckpoint(fixture: String) throws {
    let (loaded, _) = try VisionTransformer.load(from: fixturePath(fixture))
    #expect(loaded.configuration.globalPool == Self.model(fixture).configuration.globalPool)
    let image = Tensor(shape: [3, 32, 32], scalars: (0..<3072).map { Float($0 % 17) / 17 - 0.5 })
    let logits = withGradientsDisabled { loaded(image) }.logits!.scalars
    let timm = try JSONDecoder().decode([Float].self, from: Data(contentsOf: URL(fileURLWithPath: fixturePath("\(fixture)/timm_logits.json"))))
    #expect(logits.count == timm.count)
    #expect(zip(logits, timm).allSatisfy { abs($0 - $1) < 1e-5 }, "ours \(logits), timm \(timm)")
  }
}
