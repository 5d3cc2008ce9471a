import Foundation
import Testing
import VATestSupport
@testable import VATensorCore

/// softmax(Q Kᵀ/√d + bias) V and the weights, per head, in Double: the reference for the
/// tiled kernel and the row functions. `qkv` is `[T, 3C]` (one sequence), `bias` `[T, T]` or
/// `[heads, T, T]`. Returns `[T, C]` and `[heads, T, T]`.
private func naiveAttention(_ qkv: [Float], tokens t: Int, heads: Int, bias: [Float]?) -> (output: [Float], weights: [Float]) {
  let c = qkv.count / (3 * t), d = c / heads
  let perHead = bias.map { $0.count == heads * t * t } ?? false
  var output = [Float](repeating: 0, count: t * c), weights = [Float](repeating: 0, count: heads * t * t)
  for h in 0..<heads {
    for i in 0..<t {
      var scores = [Double](repeating: 0, count: t)
      for j in 0..<t {
        var dot = 0.0
        for e in 0..<d { dot += Double(qkv[i * 3 * c + h * d + e]) * Double(qkv[j * 3 * c + c + h * d + e]) }
        scores[j] = dot / Double(d).squareRoot() + Double(bias.map { $0[(perHead ? h * t * t : 0) + i * t + j] } ?? 0)
      }
      let top = scores.max()!
      guard top > -.infinity else { continue }  // every key dropped: zeros, as softmax here gives
      let exps = scores.map { Foundation.exp($0 - top) }
      let sum = exps.reduce(0, +)
      for j in 0..<t { weights[(h * t + i) * t + j] = Float(exps[j] / sum) }
      for e in 0..<d {
        var acc = 0.0
        for j in 0..<t { acc += exps[j] / sum * Double(qkv[j * 3 * c + 2 * c + h * d + e]) }
        output[i * c + h * d + e] = Float(acc)
      }
    }
  }
  return (output, weights)
}

/// A random additive mask: about a third of the keys dropped (−∞), the diagonal always kept,
/// and row `droppedRow` dropped entirely (its output must be zeros, not NaN).
private func randomMask(tokens t: Int, droppedRow: Int?, using rng: inout SplitMix64) -> [Float] {
  var mask = [Float](repeating: 0, count: t * t)
  for i in 0..<t {
    for j in 0..<t where i != j && rng.next() % 3 == 0 { mask[i * t + j] = -.infinity }
  }
  if let droppedRow { for j in 0..<t { mask[droppedRow * t + j] = -.infinity } }
  return mask
}

struct TiledAttentionCase: CustomTestStringConvertible, Sendable {
  var batch: Int, tokens: Int, heads: Int, headDimension: Int, tiles: AttentionTiles
  var testDescription: String { "B\(batch) T\(tokens) H\(heads) d\(headDimension) tiles \(tiles.queryRows)x\(tiles.keys)" }
}

// Sizes chosen so T is not a multiple of either tile (last blocks are ragged) and a key tile
// boundary falls inside every row; one case has a single tile wider than T.
private let cases: [TiledAttentionCase] = [
  .init(batch: 1, tokens: 37, heads: 2, headDimension: 8, tiles: .init(queryRows: 6, keys: 16)),
  .init(batch: 2, tokens: 50, heads: 3, headDimension: 16, tiles: .init(queryRows: 12, keys: 32)),
  .init(batch: 1, tokens: 197, heads: 6, headDimension: 64, tiles: .default),
  .init(batch: 1, tokens: 301, heads: 1, headDimension: 5, tiles: .init(queryRows: 7, keys: 64)),
]

@Test(arguments: cases)
func tiledAttentionMatchesPlainPathAndReference(_ c: TiledAttentionCase) {
  var rng = SplitMix64(seed: UInt64(c.tokens * 31 + c.heads))
  let channels = c.heads * c.headDimension
  let qkv = Tensor.randomNormal([c.batch, c.tokens, 3 * channels], std: 1.5, using: &rng)
  let tiled = tiledSelfAttention(qkv: qkv, heads: c.heads, tiles: c.tiles)
  let plain = fusedSelfAttention(qkv: qkv, heads: c.heads).output
  // Both are Float with different summation orders; outputs are O(1) weighted means of V.
  #expect(maxAbsoluteDifference(tiled.scalars, plain.scalars) < 1e-5)
  let one = Array(qkv.scalars[0..<(c.tokens * 3 * channels)])
  let reference = naiveAttention(one, tokens: c.tokens, heads: c.heads, bias: nil)
  #expect(maxAbsoluteDifference(Array(tiled.scalars[0..<(c.tokens * channels)]), reference.output) < 1e-5)
}

@Test(arguments: cases)
func tiledAttentionAppliesMasksAndPerHeadBias(_ c: TiledAttentionCase) {
  var rng = SplitMix64(seed: UInt64(c.tokens * 17 + c.heads))
  let channels = c.heads * c.headDimension, t = c.tokens
  let qkv = Tensor.randomNormal([c.batch, t, 3 * channels], std: 1.5, using: &rng)
  // A shared mask with one row dropped entirely, against the plain path.
  let mask = Tensor(shape: [t, t], scalars: randomMask(tokens: t, droppedRow: t / 2, using: &rng))
  let tiled = tiledSelfAttention(qkv: qkv, heads: c.heads, bias: mask, tiles: c.tiles)
  let plain = fusedSelfAttention(qkv: qkv, heads: c.heads, mask: mask).output
  #expect(tiled.scalars.allSatisfy { $0.isFinite })
  #expect(maxAbsoluteDifference(tiled.scalars, plain.scalars) < 1e-5)
  #expect(tiled.scalars[(t / 2 * channels)..<((t / 2 + 1) * channels)].allSatisfy { $0 == 0 })
  // A per-head bias (what a relative-position bias is), against the Double reference.
  let bias = Tensor.randomNormal([c.heads, t, t], std: 2, using: &rng)
  let biased = tiledSelfAttention(qkv: qkv, heads: c.heads, bias: bias, tiles: c.tiles)
  let reference = naiveAttention(Array(qkv.scalars[0..<(t * 3 * channels)]), tokens: t, heads: c.heads, bias: bias.scalars)
  #expect(maxAbsoluteDifference(Array(biased.scalars[0..<(t * channels)]), reference.output) < 1e-5)
}

@Test(arguments: cases)
func attentionRowsMatchTheFullMatrices(_ c: TiledAttentionCase) {
  var rng = SplitMix64(seed: UInt64(c.tokens * 7 + c.heads))
  let channels = c.heads * c.headDimension, t = c.tokens
  let qkv = Tensor.randomNormal([1, t, 3 * channels], std: 1.5, using: &rng)
  let mask = Tensor(shape: [t, t], scalars: randomMask(tokens: t, droppedRow: nil, using: &rng))
  let full = fusedSelfAttention(qkv: qkv, heads: c.heads, mask: mask).weights.scalars  // [H, T, T]
  let layout = QueryKeyLayout.fused(tokens: t, heads: c.heads, headDimension: c.headDimension)
  let rows = [0, t - 1, t / 3, 0]  // repeats allowed
  let picked = attentionRows(queriesKeys: qkv.scalars, layout: layout, rows: rows, bias: mask)
  var expected: [Float] = []
  for h in 0..<c.heads { for r in rows { expected += full[((h * t + r) * t)..<((h * t + r + 1) * t)] } }
  #expect(maxAbsoluteDifference(picked, expected) < 1e-6)

  // Every row through the block visitor, from queries and keys saved compactly [T, 2C].
  var compact: [Float] = []
  for i in 0..<t { compact += qkv.scalars[(i * 3 * channels)..<(i * 3 * channels + 2 * channels)] }
  var seen = [Float](repeating: .nan, count: c.heads * t * t), next = 0
  forEachAttentionRowBlock(
    queriesKeys: compact, layout: .compact(tokens: t, heads: c.heads, headDimension: c.headDimension),
    bias: mask, blockRows: 10
  ) { range, weights in
    #expect(range.lowerBound == next)
    next = range.upperBound
    for h in 0..<c.heads {
      for (i, r) in range.enumerated() {
        for j in 0..<t { seen[(h * t + r) * t + j] = weights[(h * range.count + i) * t + j] }
      }
    }
  }
  #expect(next == t)
  #expect(maxAbsoluteDifference(seen, full) < 1e-6)
}

/// The plain path's one pass (score GEMM, softmax and value GEMM per block of query rows, the
/// blocks over threads) against the Double reference, with a per-head bias and a mask that
/// drops one row, on T that no block height divides; 1 and 2 threads give the same bits,
/// since a block's rows are computed the same whichever thread takes it.
@Test(arguments: [(batch: 2, tokens: 101, heads: 3, headDimension: 16), (batch: 1, tokens: 197, heads: 3, headDimension: 64)])
func plainAttentionBlocksMatchTheReference(batch: Int, tokens t: Int, heads: Int, headDimension d: Int) {
  var rng = SplitMix64(seed: UInt64(t * 31 + heads))
  let channels = heads * d
  let qkv = Tensor.randomNormal([batch, t, 3 * channels], std: 1.5, using: &rng)
  let maskValues = randomMask(tokens: t, droppedRow: t / 3, using: &rng)
  let mask = Tensor(shape: [t, t], scalars: maskValues)
  let bias = Tensor.randomNormal([heads, t, t], std: 2, using: &rng)
  let previous = ComputeThreads.count
  defer { ComputeThreads.count = previous }
  ComputeThreads.count = 2
  let two = fusedSelfAttention(qkv: qkv, heads: heads, mask: mask, bias: bias)
  ComputeThreads.count = 1
  let one = fusedSelfAttention(qkv: qkv, heads: heads, mask: mask, bias: bias)
  #expect(two.output.scalars == one.output.scalars && two.weights.scalars == one.weights.scalars)
  // The reference takes one additive term: the per-head bias plus the shared mask.
  var additive = bias.scalars
  for i in additive.indices { additive[i] += maskValues[i % (t * t)] }
  for image in 0..<batch {
    let reference = naiveAttention(
      Array(qkv.scalars[(image * t * 3 * channels)..<((image + 1) * t * 3 * channels)]), tokens: t, heads: heads, bias: additive)
    #expect(maxAbsoluteDifference(Array(two.output.scalars[(image * t * channels)..<((image + 1) * t * channels)]), reference.output) < 1e-5)
    #expect(maxAbsoluteDifference(Array(two.weights.scalars[(image * heads * t * t)..<((image + 1) * heads * t * t)]), reference.weights) < 1e-5)
  }
  #expect(two.output.scalars[(t / 3 * channels)..<((t / 3 + 1) * channels)].allSatisfy { $0 == 0 })
}

/// Without the weights, the same bits come from per-thread score blocks, and a second and
/// third forward of the same sizes take their blocks from the arena without allocating.
@Test func attentionOutputWithoutWeightsReusesItsScratch() {
  var rng = SplitMix64(seed: 29)
  let (t, heads, d) = (197, 3, 64)
  let qkv = Tensor.randomNormal([2, t, 3 * heads * d], std: 1.5, using: &rng)
  let mask = Tensor(shape: [t, t], scalars: randomMask(tokens: t, droppedRow: 5, using: &rng))
  let arena = ScratchArena()
  let expected = fusedSelfAttention(qkv: qkv, heads: heads, mask: mask).output
  let first = fusedSelfAttentionOutput(qkv: qkv, heads: heads, mask: mask, arena: arena)
  let afterFirst = arena.allocations
  #expect(first.shape == expected.shape && first.scalars == expected.scalars)
  #expect(afterFirst >= 1)  // one block per thread that ran
  for _ in 0..<2 {
    let again = fusedSelfAttentionOutput(qkv: qkv, heads: heads, mask: mask, arena: arena)
    #expect(again.scalars == expected.scalars)
  }
  // Other suites change the global thread count while this runs, so a later forward may use
  // one more thread than the first: still at most one block per thread, never one per call.
  #expect(arena.allocations <= max(afterFirst, ProcessInfo.processInfo.activeProcessorCount))
}
