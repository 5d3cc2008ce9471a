import Testing
import VATensorCore

/// How `sgemm` shares a product among threads: the parts tile C's rows (or columns) without
/// gaps or overlap, in whole micro-kernel tiles, one per thread; small products stay whole.
struct GEMMPartitionTests {
  @Test(arguments: [(2073, 192, 64), (2073, 2073, 16), (64, 4000, 300), (100, 100, 105), (13, 5000, 5000)], [2, 3, 16])
  func partsTileTheLargerSide(shape: (Int, Int, Int), threads: Int) {
    let (m, n, k) = shape
    let (alongRows, parts) = sgemmPartition(m: m, n: n, k: k, threads: threads)
    #expect(alongRows == (m >= n))
    let extent = alongRows ? m : n
    #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == extent)
    #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$0.isEmpty })
    #expect(parts.dropLast().allSatisfy { $0.count % (alongRows ? 12 : 32) == 0 })
    let split = m * n * k >= 1 << 20 && max(m, n) / 16 >= 2
    #expect(split ? parts.count > 1 && parts.count <= threads : parts.count == 1, "\(m)x\(n)x\(k) on \(threads) threads: \(parts)")
  }

  @Test func theThresholdIsAMillionMultiplyAdds() {
    #expect(sgemmPartition(m: 17, n: 192, k: 64, threads: 2).parts == [0..<192])  // 208,896
    #expect(sgemmPartition(m: 4095, n: 16, k: 16, threads: 2).parts == [0..<4095])  // 2²⁰ − 256
    #expect(sgemmPartition(m: 4096, n: 16, k: 16, threads: 2).parts == [0..<2052, 2052..<4096])  // 2²⁰
    #expect(sgemmPartition(m: 1024, n: 24, k: 64, threads: 8).parts.count == 8)
    #expect(sgemmPartition(m: 1 << 20, n: 1, k: 1, threads: 1).parts.count == 1)
  }
}
