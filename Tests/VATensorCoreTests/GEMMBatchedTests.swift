import Testing
import VATensorCore

/// `sgemmBatched`'s work split: every row of every product exactly once, in equal shares when
/// the products do not divide among the threads (ViT-Ti's 3 heads on 2 threads), and the
/// results equal to each product computed alone.
struct GEMMBatchedTests {
  @Test(arguments: [(3, 197, 2), (3, 197, 3), (6, 197, 4), (1, 197, 2), (5, 20, 2), (4, 197, 2)], [12, 14])
  func workCoversEveryRowOnce(case: (products: Int, m: Int, threads: Int), tileRows: Int) {
    let work = sgemmBatchedWork(products: `case`.products, m: `case`.m, threads: `case`.threads, tileRows: tileRows)
    #expect(work.count == `case`.threads)
    var covered = [[Int]](repeating: [Int](repeating: 0, count: `case`.m), count: `case`.products)
    for part in work { for (product, rows) in part { for row in rows { covered[product][row] += 1 } } }
    #expect(covered.allSatisfy { $0.allSatisfy { $0 == 1 } }, "\(`case`), \(tileRows)-row tiles: \(work)")
    // Shares of rows differ by at most one part (a part is at most half a product plus a tile).
    let shares = work.map { $0.reduce(0) { $0 + $1.rows.count } }
    #expect(shares.max()! - shares.min()! <= `case`.m / `case`.threads + tileRows, "\(`case`): \(shares)")
  }

  @Test func threeHeadsOnTwoThreadsAreCutInHalves() {
    let work = sgemmBatchedWork(products: 3, m: 197, threads: 2, tileRows: 12)
    #expect(work.map(\.count) == [3, 3])
    #expect(work.map { $0.reduce(0) { $0 + $1.rows.count } }.allSatisfy { abs($0 - 296) <= 5 })
  }

  @Test(arguments: [(MatrixTranspose.none, MatrixTranspose.transposed), (.transposed, .none)])
  func threeProductsOnTwoThreadsMatchTheReference(transposes: (MatrixTranspose, MatrixTranspose)) {
    let (m, n, k, count) = (197, 150, 64, 3)
    var rng = SplitMix64(seed: 17)
    let a = (0..<(count * m * k)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(count * k * n)).map { _ in Float(rng.nextStandardNormal()) }
    let lda = transposes.0 == .none ? k : m, ldb = transposes.1 == .none ? n : k
    let offsets = (0..<count).map { ($0 * m * k, $0 * k * n, $0 * m * n) }
    let previous = ComputeThreads.count
    defer { ComputeThreads.count = previous }
    ComputeThreads.count = 2
    var fast = [Float](repeating: .nan, count: count * m * n), slow = fast
    sgemmBatched(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, c: &fast, ldc: n, offsets: offsets)
    ComputeThreads.count = 1
    sgemmBatched(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, c: &slow, ldc: n, offsets: offsets)
    // Rows are independent: the cut changes no sum's order, so the bits are the same.
    #expect(fast == slow)
    var reference = [Float](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        sgemmReference(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress! + 2 * m * k, lda: lda, b: pb.baseAddress! + 2 * k * n, ldb: ldb, c: &reference, ldc: n)
      }
    }
    let worst = (0..<(m * n)).map { abs(fast[2 * m * n + $0] - reference[$0]) }.max()!
    #expect(worst < 1e-4, "largest difference \(worst)")  // Float32 sums of 64 unit-variance terms
  }
}
