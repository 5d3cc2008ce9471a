import Foundation
import Testing
@testable import VisionAttention

/// The attention-pooling head's map lives in `AttentionRecord.pool` and is read through one
/// accessor, `poolMap(_:)`: every consumer must see the same values.
struct PoolMapTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let mapCheckpoint = root + "/Tests/VAModelsTests/Fixtures/toolkit_saved_map"
  static let coffee = root + "/images/coffee.png"

  /// Head rows and the three fusions, on weights small enough to check by hand.
  @Test func oneHeadOrAFusion() throws {
    // 2 heads over a 2x1 grid, after a class token's column would be (the pool has none).
    let record = AttentionRecord(
      layers: [[Float](repeating: 1 / 3, count: 2 * 3 * 3)], heads: 2, prefixTokens: 1, hasClassToken: true,
      gridWidth: 2, gridHeight: 1, pool: [0.2, 0.8, 0.6, 0.4])
    #expect(record.poolHeads == 2)
    #expect(record.poolMap(.head(1)) == [0.6, 0.4])
    #expect(record.poolMap(.head(2)) == nil)
    let mean = try #require(record.poolMap(.fused(.mean)))
    #expect(abs(mean[0] - 0.4) < 1e-6 && abs(mean[1] - 0.6) < 1e-6)
    #expect(record.poolMap(.fused(.max)) == [0.6, 0.8] && record.poolMap(.fused(.min)) == [0.2, 0.4])
    let without = AttentionRecord(layers: [], heads: 2, prefixTokens: 0, hasClassToken: false, gridWidth: 2, gridHeight: 1)
    #expect(without.poolHeads == 0 && without.poolMap(.fused(.mean)) == nil)
  }

  /// For a MAP-head checkpoint (no class token): the model's own forward, the dump's
  /// `attn.pool`, the figure's map (`--map cls` and the default figure, bare), the
  /// faithfulness `cls` map and a rows run (above the full-attention limit) agree.
  @Test func everyConsumerSeesTheSameMap() throws {
    let model = try #require(try ModelSource(weights: Self.mapCheckpoint).load().model as? CheckpointModel)
    let result = try ImageAttention(contentsOfFile: Self.coffee, model: model)
    let record = result.record
    #expect(!record.hasClassToken && record.poolHeads == 2)

    // Independent of the record: the forward's own pooling weights, heads averaged here.
    let input = Tensor(shape: [3, result.image.height, result.image.width], scalars: result.run.input)
    let forward = try #require(model.model(input, recordAttention: true).poolAttention)
    #expect(forward.shape == [2, 1, record.patchCount])
    let n = record.patchCount
    let expected = (0..<n).map { j in (forward.scalars[j] + forward.scalars[n + j]) / 2 }
    // A map that cannot tell the patches apart would pass anything below.
    #expect(expected.max()! - expected.min()! > 1e-3)
    func close(_ a: [Float]?, _ b: [Float], _ tolerance: Float = 1e-6) -> Bool {
      guard let a, a.count == b.count else { return false }
      return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }
    #expect(close(record.poolMap(.fused(.mean)), expected))

    // The figure's map: `--map cls` and the default figure stand the pool in for the class token.
    for map in [MapKind.cls, nil] {
      var settings = FigureSettings()
      (settings.map, settings.style) = (map, .bare)
      let values = try #require(try result.scene(settings).singleMap()?.values)
      #expect(close(values, expected), "\(map?.rawValue ?? "default")")
    }

    // The dump's `attn.pool`, read back from the file.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var settings = FigureSettings()
    settings.map = .cls
    try Pipeline(model: model, settings: settings).process(Self.coffee, outputs: .init(dump: folder + "/d.safetensors"))
    let dump = try SafetensorsFile(path: folder + "/d.safetensors")
    #expect(dump.info("attn.pool")?.shape == [2, 1, n])
    #expect(close(try dump.floats("attn.pool"), forward.scalars))

    // The faithfulness `cls` map.
    let attribution = try FaithfulnessRun.attribution(model, result.image, .topClass)
    let scored = try FaithfulnessRun.map(try #require(FaithfulnessMap(rawValue: "cls")), record: AttributionRecordPair(run: record, attribution: attribution), seed: 0).get()
    #expect(close(scored, expected))

    // A rows run keeps the pooling weights whole; the tiled forward rounds differently.
    let rows = try model.run(result.image, capture: .rows(tokens: [0], queriesKeys: false))
    #expect(close(rows.attention.poolMap(.fused(.mean)), expected, 1e-5))
  }
}
