import Testing
import VATensorCore

/// How `sgemm` shares a product among threads: the parts tile C's rows (or columns) without
/// gaps or overlap, in whole micro-kernel tiles (of each kernel's height), one per thread,
/// balanced to within a tile; small products stay whole.
struct GEMMPartitionTests {
  @Test(arguments: [(2073, 192, 64), (2073, 2073, 16), (64, 4000, 300), (100, 100, 105), (13, 5000, 5000), (197, 384, 1536), (1576, 1152, 384)], [2, 3, 16])
  func partsTileTheLargerSide(shape: (Int, Int, Int), threads: Int) {
    for tileRows in [6, 12, 14] { partsTile(shape: shape, threads: threads, tileRows: tileRows) }
  }

  func partsTile(shape: (Int, Int, Int), threads: Int, tileRows: Int) {
    let (m, n, k) = shape
    let (alongRows, parts) = sgemmPartition(m: m, n: n, k: k, threads: threads, tileRows: tileRows)
    #expect(alongRows == (m >= n))
    let extent = alongRows ? m : n, unit = alongRows ? tileRows : 32
    #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == extent)
    #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$0.isEmpty })
    #expect(parts.dropLast().allSatisfy { $0.count % unit == 0 })
    // Balanced: each boundary is within half a tile of an even share, so each part is within a
    // tile of it (threads as the partition caps them, one per 16 rows or columns).
    let share = Double(extent) / Double(min(threads, max(m, n) / 16))
    if parts.count > 1 {
      #expect(parts.allSatisfy { abs(Double($0.count) - share) <= Double(unit) }, "\(m)x\(n)x\(k), \(tileRows)-row tiles: \(parts)")
    }
    let split = m * n * k >= 1 << 20 && max(m, n) / 16 >= 2
    #expect(split ? parts.count > 1 && parts.count <= threads : parts.count == 1, "\(m)x\(n)x\(k) on \(threads) threads: \(parts)")
  }

  /// ViT's 197 rows on two threads with the Intel kernel's 14-row tiles: 7 tiles each (the
  /// second with a 1-row edge), not 8 + 6 as rounding each part up to whole tiles gave.
  @Test func vitRowsSplitEvenlyInFourteenRowTiles() {
    #expect(sgemmPartition(m: 197, n: 64, k: 4096, threads: 2, tileRows: 14).parts == [0..<98, 98..<197])
    #expect(sgemmPartition(m: 197, n: 64, k: 4096, threads: 2, tileRows: 12).parts == [0..<96, 96..<197])
    #expect(sgemmPartition(m: 197, n: 384, k: 384, threads: 2, tileRows: 14).parts == [0..<192, 192..<384])
  }

  @Test func theThresholdIsAMillionMultiplyAdds() {
    #expect(sgemmPartition(m: 17, n: 192, k: 64, threads: 2, tileRows: 12).parts == [0..<192])  // 208,896
    #expect(sgemmPartition(m: 4095, n: 16, k: 16, threads: 2, tileRows: 12).parts == [0..<4095])  // 2²⁰ − 256
    #expect(sgemmPartition(m: 4096, n: 16, k: 16, threads: 2, tileRows: 12).parts == [0..<2052, 2052..<4096])  // 2²⁰
    #expect(sgemmPartition(m: 1024, n: 24, k: 64, threads: 8, tileRows: 12).parts.count == 8)
    #expect(sgemmPartition(m: 1 << 20, n: 1, k: 1, threads: 1).parts.count == 1)
  }
}
