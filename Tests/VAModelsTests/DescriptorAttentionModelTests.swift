import Testing
@testable import VAModels

/// A gray image with two identical bright crosses, the second shifted by a sub-patch offset
/// so their pixels do not line up with the patch grid in the same way.
private func twoCrosses(width: Int, height: Int, at first: (Int, Int), _ second: (Int, Int)) -> [Float] {
  var rgb = [Float](repeating: 0.3, count: 3 * width * height)
  for (cx, cy) in [first, second] {
    for d in -6...6 {
      for (x, y) in [(cx + d, cy), (cx, cy + d)] where (0..<width).contains(x) && (0..<height).contains(y) {
        rgb[y * width + x] = 0.9  // red
        rgb[width * height + y * width + x] = 0.8  // green
        rgb[2 * width * height + y * width + x] = 0.1  // blue
      }
    }
  }
  return rgb
}

@Test func everyHeadsRowsAreDistributions() {
  let model = DescriptorAttentionModel()
  let out = model.attention(rgb: twoCrosses(width: 96, height: 64, at: (20, 20), (70, 45)), width: 96, height: 64)
  #expect(out.gridWidth == 6 && out.gridHeight == 4)
  let n = out.gridWidth * out.gridHeight
  for row in 0..<(model.heads.count * n) {
    let total = out.weights[(row * n)..<((row + 1) * n)].reduce(0, +)
    #expect(abs(total - 1) < 1e-5, "row \(row) sums to \(total)")
  }
}

@Test func appearanceHeadFindsTheShiftedTwin() throws {
  let model = DescriptorAttentionModel()
  let (width, height) = (128, 96)
  // Crosses at patch offsets (4, 4) and (11, 9): different places inside their patches.
  let out = model.attention(rgb: twoCrosses(width: width, height: height, at: (20, 20), (91, 73)), width: width, height: height)
  let n = out.gridWidth * out.gridHeight
  let head = try #require(model.heads.firstIndex(of: .appearance))
  let query = 1 * out.gridWidth + 1  // patch holding the first cross
  let twin = 4 * out.gridWidth + 5  // patch holding the second
  let row = Array(out.weights[(head * n * n + query * n)..<(head * n * n + (query + 1) * n)])
  let share = row[twin]
  // The twin is one patch of 48; uniform attention would give it 1/48 ≈ 0.02.
  #expect(share > 10 * (1 / Float(n)), "twin gets \(share) of the query's attention")
}

@Test func positionHeadIsLocalAndIgnoresContent() throws {
  let model = DescriptorAttentionModel()
  let out = model.attention(rgb: twoCrosses(width: 128, height: 96, at: (20, 20), (91, 73)), width: 128, height: 96)
  let n = out.gridWidth * out.gridHeight
  let head = try #require(model.heads.firstIndex(of: .position))
  let query = 2 * out.gridWidth + 3
  let row = Array(out.weights[(head * n * n + query * n)..<(head * n * n + (query + 1) * n)])
  #expect(row.firstIndex(of: row.max()!) == query)
  // Mass within one patch of the query (a 3x3 block) dominates.
  var near: Float = 0
  for y in 1...3 { for x in 2...4 { near += row[y * out.gridWidth + x] } }
  #expect(near > 0.5, "3x3 neighbourhood holds \(near)")
}
