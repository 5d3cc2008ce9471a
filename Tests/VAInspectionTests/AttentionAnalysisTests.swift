import Foundation
import Testing
@testable import VAInspection

/// Against Scripts/reference/inspection_fixtures.py (numpy).
struct AttentionAnalysisTests {
  struct Reference: Decodable {
    var layers: Int, heads: Int, prefix: Int, grid_width: Int, grid_height: Int, patch: Int
    var attention: [Float], rollout_0: [Double], rollout_0_5: [Double], distance: [Double]
  }

  func load() throws -> (Reference, AttentionRecord) {
    let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/attention_reference.json")
    let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    let t = reference.prefix + reference.grid_width * reference.grid_height
    let size = reference.heads * t * t
    let layers = (0..<reference.layers).map { Array(reference.attention[($0 * size)..<(($0 + 1) * size)]) }
    let record = AttentionRecord(layers: layers, heads: reference.heads, prefixTokens: reference.prefix, hasClassToken: true, gridWidth: reference.grid_width, gridHeight: reference.grid_height)
    return (reference, record)
  }

  @Test func rolloutMatchesNumpy() throws {
    let (reference, record) = try load()
    for (ratio, expected) in [(0.0, reference.rollout_0), (0.5, reference.rollout_0_5)] {
      let rollout = record.rollout(.mean, discardRatio: ratio)
      let worst = zip(rollout, expected).map { abs(Double($0) - $1) }.max()!
      #expect(worst < 1e-5, "discard \(ratio): largest difference \(worst)")
      for row in 0..<record.tokens {
        let sum = rollout[(row * record.tokens)..<((row + 1) * record.tokens)].reduce(0, +)
        #expect(abs(sum - 1) < 1e-5)
      }
    }
  }

  /// The row form carries a vector down the layers instead of multiplying matrices: the same
  /// numbers up to summation order.
  @Test(arguments: HeadFusion.allCases) func rolloutRowIsARowOfRollout(fusion: HeadFusion) throws {
    let (_, record) = try load()
    for ratio in [0.0, 0.5] {
      let full = record.rollout(fusion, discardRatio: ratio)
      for token in [0, record.prefixTokens, record.tokens - 1] {
        let row = record.rolloutRow(token, fusion, discardRatio: ratio)
        let expected = full[(token * record.tokens)..<((token + 1) * record.tokens)]
        #expect(zip(row, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "token \(token), discard \(ratio)")
      }
    }
  }

  @Test func meanDistancesMatchNumpy() throws {
    let (reference, record) = try load()
    let distances = record.meanDistances(patchSize: reference.patch)
    #expect(distances.count == reference.layers * reference.heads)
    #expect(zip(distances, reference.distance).allSatisfy { abs(Double($0) - $1) < 1e-3 }, "\(distances) vs \(reference.distance)")
  }

  @Test func fusionsAndMaps() throws {
    let (_, record) = try load()
    let mean = record.fused(layer: 1, .mean), max = record.fused(layer: 1, .max), min = record.fused(layer: 1, .min)
    let h0 = record.head(0, layer: 1), h1 = record.head(1, layer: 1)
    for i in stride(from: 0, to: mean.count, by: 7) {
      #expect(abs(mean[i] - (h0[i] + h1[i]) / 2) < 1e-6)
      #expect(max[i] == Swift.max(h0[i], h1[i]) && min[i] == Swift.min(h0[i], h1[i]))
    }
    let cls = try #require(record.classTokenMap(layer: 0, .head(1)))
    #expect(cls.count == 12)
    #expect(cls[0] == record.head(1, layer: 0)[record.prefixTokens])
    let query = record.queryMap(column: 2, row: 1, layer: 2, .fused(.mean))
    #expect(query[5] == record.fused(layer: 2, .mean)[record.token(column: 2, row: 1) * record.tokens + record.token(column: 1, row: 1)])
  }

  @Test func keepMassKeepsTheFewestCellsHoldingTheMass() {
    let map: [Float] = [0.05, 0.4, 0.1, 0.3, 0.15]
    #expect(AttentionRecord.keepMassMask(map, keep: 0.6) == [false, true, false, true, false])  // 0.4 + 0.3
    #expect(AttentionRecord.keepMassMask(map, keep: 0.75) == [false, true, false, true, true])  // + 0.15
    #expect(AttentionRecord.keepMassMask(map, keep: 1).allSatisfy { $0 })
  }

  @Test func cosineSimilarityOfSelfIsOne() {
    let embeddings: [Float] = [1, 0, 0, 1, 1, 1]
    let s = AttentionRecord.cosineSimilarities(embeddings, count: 3)
    #expect(abs(s[0] - 1) < 1e-6 && abs(s[1]) < 1e-6 && abs(s[2] - 0.70710678) < 1e-6)
  }
}
