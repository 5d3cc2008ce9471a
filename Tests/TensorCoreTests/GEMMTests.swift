import CKernels
import Testing
@testable import TensorCore

/// The packed, blocked, threaded GEMM against the naive reference, over edge sizes, all
/// transposes, alpha/beta, padded leading dimensions, and 1 or several threads.
struct GEMMTests {
  @Test func multipliesTwoByTwo() {
    let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
    var c = [Float](repeating: 0, count: 4)
    sgemm(.none, .none, m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: &c, ldc: 2)
    #expect(c == [19, 22, 43, 50])
  }

  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (5, 7, 3), (6, 16, 1), (7, 17, 15), (13, 33, 65), (63, 65, 17), (197, 64, 197), (65, 197, 384), (200, 300, 700),
  ]

  @Test(arguments: shapes, [(MatrixTranspose.none, MatrixTranspose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
  func matchesTheReference(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) {
    let (m, n, k) = shape
    var rng = SplitMix64(seed: UInt64(m * 1_000_003 + n * 1009 + k))
    // Leading dimensions padded by 3 so strides differ from widths.
    let aRows = transposes.0 == .none ? m : k, aColumns = transposes.0 == .none ? k : m
    let bRows = transposes.1 == .none ? k : n, bColumns = transposes.1 == .none ? n : k
    let lda = aColumns + 3, ldb = bColumns + 3, ldc = n + 3
    let a = (0..<(aRows * lda)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(bRows * ldb)).map { _ in Float(rng.nextStandardNormal()) }
    let c0 = (0..<(m * ldc)).map { _ in Float(rng.nextStandardNormal()) }
    let previous = ComputeThreads.count
    defer { ComputeThreads.count = previous }
    for threads in [1, 2] {
      ComputeThreads.count = threads
      var fast = c0, slow = c0
      sgemm(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.75, a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: &fast, ldc: ldc)
      sgemmReference(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.75, a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: &slow, ldc: ldc)
      // Float32 accumulation over k terms of unit variance: error grows like sqrt(k)·eps.
      let tolerance = Float(k).squareRoot() * 1e-5 + 1e-5
      for i in 0..<m {
        for j in 0..<n {
          let x = fast[i * ldc + j], y = slow[i * ldc + j]
          if abs(x - y) > tolerance * max(1, abs(y)) {
            Issue.record("\(shape) \(transposes) threads \(threads): C[\(i),\(j)] = \(x), reference \(y)")
            return
          }
        }
        // Padding columns of C are never touched.
        for j in n..<ldc where fast[i * ldc + j] != c0[i * ldc + j] {
          Issue.record("\(shape): wrote into C's padding at row \(i)")
          return
        }
      }
    }
  }

  /// Every micro-kernel this CPU can run (portable, AVX2, AVX-512), not just the detected one.
  @Test(arguments: [0, 1, 2])
  func everyMicroKernelMatchesTheReference(level: Int32) {
    let (m, n, k) = (29, 71, 333)
    var rng = SplitMix64(seed: 9)
    let a = (0..<(m * k)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) }
    var fast = [Float](repeating: 1, count: m * n), slow = fast
    guard ck_sgemm_at_level(level, 0, 1, m, n, k, 1.5, a, k, b, k, 0.25, &fast, n) == 1 else { return }  // CPU lacks it
    sgemmReference(.none, .transposed, m: m, n: n, k: k, alpha: 1.5, a: a, lda: k, b: b, ldb: k, beta: 0.25, c: &slow, ldc: n)
    let worst = zip(fast, slow).map { abs($0 - $1) / max(1, abs($1)) }.max()!
    #expect(worst < 1e-4, "level \(level): relative error \(worst)")
  }

  @Test func betaZeroIgnoresWhatCHeld() {
    let a: [Float] = [1, 2], b: [Float] = [3, 4]
    var c: [Float] = [.nan]
    sgemm(.none, .none, m: 1, n: 1, k: 2, a: a, lda: 2, b: b, ldb: 1, beta: 0, c: &c, ldc: 1)
    #expect(c == [11])
  }
}
