import CVAKernels
import Testing
@testable import VATensorCore

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

  /// Every micro-kernel (portable, AVX2, AVX-512), not just the detected one, in both
  /// epilogues: accumulating onto C (beta = 0.25), and storing the first depth slice plus
  /// the bias over a C that holds NaN (beta = 0: C must not be read). k = 333 spans two
  /// depth slices, n = 71 and m = 29 leave edge tiles. Levels this CPU lacks are skipped.
  static let epilogues: [(beta: Float, bias: Bool)] = [(0.25, false), (0, true), (0, false), (0.25, true)]
  @Test(arguments: epilogues) func portableMicroKernel(epilogue: (beta: Float, bias: Bool)) { microKernelMatches(level: 0, epilogue) }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2"), arguments: epilogues)
  func avx2MicroKernel(epilogue: (beta: Float, bias: Bool)) { microKernelMatches(level: 1, epilogue) }
  @Test(.enabled(if: KernelLevel.avx512, "this CPU (or CVA_SGEMM_KERNEL) has no AVX-512"), arguments: epilogues)
  func avx512MicroKernel(epilogue: (beta: Float, bias: Bool)) { microKernelMatches(level: 2, epilogue) }

  func microKernelMatches(level: Int32, _ epilogue: (beta: Float, bias: Bool)) {
    let (m, n, k) = (29, 71, 333)
    var rng = SplitMix64(seed: 9)
    let a = (0..<(m * k)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) }
    let bias = (0..<n).map { _ in Float(rng.nextStandardNormal()) }
    var fast = [Float](repeating: epilogue.beta == 0 ? .nan : 1, count: m * n)
    let ran = bias.withUnsafeBufferPointer { pb in
      cva_sgemm_at_level(level, 0, 1, m, n, k, 1.5, a, k, b, k, epilogue.beta, epilogue.bias ? pb.baseAddress : nil, &fast, n)
    }
    guard ran == 1 else { Issue.record("level \(level) did not run"); return }
    var slow = [Float](repeating: 1, count: m * n)
    sgemmReference(.none, .transposed, m: m, n: n, k: k, alpha: 1.5, a: a, lda: k, b: b, ldb: k, beta: epilogue.beta, c: &slow, ldc: n)
    if epilogue.bias { for i in 0..<(m * n) { slow[i] += bias[i % n] } }
    let worst = zip(fast, slow).map { abs($0 - $1) / max(1, abs($1)) }.max()!
    #expect(worst < 1e-4, "level \(level) \(epilogue): relative error \(worst)")
  }

  /// The whole driver (packing, blocking, edge tiles, transposes, padded strides) at each
  /// level below the detected one, as `matchesTheReference` checks the detected one: on an
  /// AVX-512 machine the portable and AVX2 paths run too.
  static let transposes: [(MatrixTranspose, MatrixTranspose)] = [(.none, .none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)]
  @Test(arguments: shapes, transposes) func portableDriver(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) {
    driverMatches(level: 0, shape, transposes)
  }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2"), arguments: shapes, transposes)
  func avx2Driver(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) { driverMatches(level: 1, shape, transposes) }

  func driverMatches(level: Int32, _ shape: (Int, Int, Int), _ transposes: (MatrixTranspose, MatrixTranspose)) {
    let (m, n, k) = shape
    var rng = SplitMix64(seed: UInt64(m * 7919 + n * 31 + k))
    let aRows = transposes.0 == .none ? m : k, aColumns = transposes.0 == .none ? k : m
    let bRows = transposes.1 == .none ? k : n, bColumns = transposes.1 == .none ? n : k
    let lda = aColumns + 3, ldb = bColumns + 3, ldc = n + 3
    let a = (0..<(aRows * lda)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(bRows * ldb)).map { _ in Float(rng.nextStandardNormal()) }
    let c0 = (0..<(m * ldc)).map { _ in Float(rng.nextStandardNormal()) }
    var fast = c0, slow = c0
    let ran = cva_sgemm_at_level(level, transposes.0 == .transposed ? 1 : 0, transposes.1 == .transposed ? 1 : 0, m, n, k, 0.75, a, lda, b, ldb, -0.5, nil, &fast, ldc)
    guard ran == 1 else { Issue.record("level \(level) did not run"); return }
    sgemmReference(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.75, a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: &slow, ldc: ldc)
    // Float32 accumulation over k terms of unit variance: error grows like sqrt(k)·eps.
    let tolerance = Float(k).squareRoot() * 1e-5 + 1e-5
    for i in 0..<m {
      for j in 0..<n where abs(fast[i * ldc + j] - slow[i * ldc + j]) > tolerance * max(1, abs(slow[i * ldc + j])) {
        Issue.record("level \(level) \(shape) \(transposes): C[\(i),\(j)] = \(fast[i * ldc + j]), reference \(slow[i * ldc + j])"); return
      }
      for j in n..<ldc where fast[i * ldc + j] != c0[i * ldc + j] {
        Issue.record("level \(level) \(shape): wrote into C's padding at row \(i)"); return
      }
    }
  }

  /// `sgemm`'s bias split with the columns across threads, against the reference plus the bias.
  @Test func biasFollowsTheColumnSplit() {
    let (m, n, k) = (50, 700, 64)  // n > m: split by columns on 2 threads
    var rng = SplitMix64(seed: 12)
    let a = (0..<(m * k)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) }
    let bias = (0..<n).map { Float($0) }
    let previous = ComputeThreads.count
    defer { ComputeThreads.count = previous }
    ComputeThreads.count = 2
    var fast = [Float](repeating: .nan, count: m * n), slow = [Float](repeating: 0, count: m * n)
    bias.withUnsafeBufferPointer { pb in
      sgemm(.none, .transposed, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, bias: pb.baseAddress, c: &fast, ldc: n)
    }
    sgemmReference(.none, .transposed, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &slow, ldc: n)
    let worst = (0..<(m * n)).map { abs(fast[$0] - slow[$0] - bias[$0 % n]) / max(1, abs(slow[$0] + bias[$0 % n])) }.max()!
    #expect(worst < 1e-4, "relative error \(worst)")  // Float32 sums of 64 unit-variance terms
  }

  @Test func betaZeroIgnoresWhatCHeld() {
    let a: [Float] = [1, 2], b: [Float] = [3, 4]
    var c: [Float] = [.nan]
    sgemm(.none, .none, m: 1, n: 1, k: 2, a: a, lda: 2, b: b, ldb: 1, beta: 0, c: &c, ldc: 1)
    #expect(c == [11])
  }
}
