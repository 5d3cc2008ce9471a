import Testing
import VAModels
import VATensorCore
@testable import VAInspection

private func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count, "counts differ: \(a.count) vs \(b.count)")
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// A rows record (forward without recording, chosen rows, queries and keys) against the full record of the
/// same model and image: rows, maps, recomputed rows, rollout rows and attention distance.
struct StreamingAttentionTests {
  /// A small random ViT with a class token and a register (two prefix tokens), on a 6x5 grid.
  func model(classToken: Bool) -> (VisionTransformer, Tensor) {
    var rng = SplitMix64(seed: classToken ? 21 : 22)
    var configuration = ViTConfiguration(patchSize: 4, embedDimension: 24, depth: 3, headCount: 3, imageSize: 16)
    configuration.registerTokens = 1
    configuration.classToken = classToken
    configuration.classCount = 4
    let model = VisionTransformer(configuration, using: &rng)
    // Sharper attention than the initialiser's, so rows differ from uniform.
    for b in model.blocks.indices {
      model.blocks[b].attention.qkv.weight.scalars = model.blocks[b].attention.qkv.weight.scalars.map { $0 * 8 }
    }
    return (model, Tensor.randomNormal([3, 20, 24], using: &rng))
  }

  @Test(arguments: [true, false])
  func rowsRecordMatchesFullRecord(classToken: Bool) {
    let (vit, image) = model(classToken: classToken)
    let (fullOutput, full) = vit.inspect(image, capture: .full)
    let queryToken = full.token(column: 4, row: 2)
    let tokens = classToken ? [0, queryToken] : [queryToken]
    let (rowsOutput, rows) = vit.inspect(image, capture: .rows(tokens: tokens, queriesKeys: true))
    #expect(!rows.isFull && rows.layers.count == 3 && rows.layers[0].count == 3 * tokens.count * rows.tokens)
    // The forward without recording against the recording one: same logits up to rounding
    // (HighResolutionTests checks the tiled forward, above tiledFromTokens, end to end).
    #expect(maxAbsoluteDifference(fullOutput.logits!.scalars, rowsOutput.logits!.scalars) < 1e-4)
    for layer in 0..<3 {
      for selection in [HeadSelection.head(1), .fused(.mean), .fused(.max), .fused(.min)] {
        #expect(
          maxAbsoluteDifference(
            rows.queryMap(column: 4, row: 2, layer: layer, selection),
            full.queryMap(column: 4, row: 2, layer: layer, selection)) < 1e-5)
        if classToken {
          #expect(maxAbsoluteDifference(rows.classTokenMap(layer: layer, selection)!, full.classTokenMap(layer: layer, selection)!) < 1e-5)
        }
        // A row that was not recorded, recomputed from the saved queries and keys.
        #expect(
          maxAbsoluteDifference(
            rows.queryMap(column: 1, row: 3, layer: layer, selection),
            full.queryMap(column: 1, row: 3, layer: layer, selection)) < 1e-5)
      }
    }
    for fusion in HeadFusion.allCases {
      for token in tokens + [1] {
        let streamed = rows.rolloutRow(token, fusion), expected = full.rolloutRow(token, fusion)
        #expect(maxAbsoluteDifference(streamed, expected) < 1e-5, "rollout row \(token), \(fusion)")
      }
    }
    // All fusions in one pass, as the page computes them.
    for (fusion, row) in zip(HeadFusion.allCases, rows.rolloutRows(tokens[0], fusions: HeadFusion.allCases)) {
      #expect(maxAbsoluteDifference(row, full.rolloutRow(tokens[0], fusion)) < 1e-5, "rollout rows, \(fusion)")
    }
    let distances = rows.meanDistances(patchSize: 4), expected = full.meanDistances(patchSize: 4)
    // Pixels over a 24x20 image; Float partial sums per grid row.
    #expect(maxAbsoluteDifference(distances, expected) < 1e-3, "\(distances) vs \(expected)")
  }

  @Test func rowsWithoutQueriesKeysKeepOnlyTheirRows() {
    let (vit, image) = model(classToken: true)
    let (_, rows) = vit.inspect(image, capture: .rows(tokens: [0], queriesKeys: false))
    #expect(rows.hasRow(0) && !rows.hasRow(5))
    #expect(rows.queriesKeys.isEmpty)
  }
}
