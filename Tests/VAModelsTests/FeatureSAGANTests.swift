import VATensorCore
import Testing
@testable import VAModels

struct FeatureSAGANTests {
  @Test func rowsAreDistributionsOnAnEighthGrid() {
    var rng = SplitMix64(seed: 1)
    let rgb = Tensor.randomUniform([3, 32, 48], low: 0, high: 1, using: &rng)
    let out = FeatureSAGAN().attention(rgb: rgb)
    #expect((out.gridWidth, out.gridHeight) == (6, 4) && out.weights.shape == [24, 24])
    for row in 0..<24 {
      #expect(abs(out.weights.scalars[(row * 24)..<((row + 1) * 24)].reduce(0, +) - 1) < 1e-5)
    }
  }

  /// Two identical bright patches on a dark background: a query on one reaches the other.
  @Test func aPatchAttendsToItsTwin() {
    let (w, h) = (64, 48)
    var values = [Float](repeating: 0.2, count: 3 * w * h)
    for (cx, cy) in [(12, 12), (52, 36)] {  // each square fills one 8x8 cell: (1,1) and (6,4)
      for y in (cy - 4)..<(cy + 4) { for x in (cx - 4)..<(cx + 4) { values[y * w + x] = 0.9; values[w * h + y * w + x] = 0.1 } }
    }
    let out = FeatureSAGAN().attention(rgb: Tensor(shape: [3, h, w], scalars: values))
    let query = 1 * out.gridWidth + 1, twin = 4 * out.gridWidth + 6
    let row = Array(out.weights.scalars[(query * 48)..<((query + 1) * 48)])
    #expect(row[twin] > 5 * (1 / Float(48)), "twin gets \(row[twin])")
  }
}
