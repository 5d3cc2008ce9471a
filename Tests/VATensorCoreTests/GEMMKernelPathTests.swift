import CVAKernels
import Foundation
import Testing
@testable import VATensorCore

/// Every SGEMM micro-kernel, each with its blocking for this CPU, against the naive reference,
/// whichever CPU runs the tests: the kernel shaped for AMD Zen 4 (`avx512-12x32`), the one for
/// Intel's two-FMA-port cores (`avx512-14x32`), AVX2 and portable C. A kernel this CPU cannot run
/// is reported as skipped under its own name (`.enabled(if:)`), never passed silently.
struct GEMMKernelPathTests {
  /// Edge sizes: 1, odd, below and just past each tile (6, 12, 14 rows; 16, 32 columns), one
  /// and several depth slices (kc is 176-320 here), and ViT's 197 rows. Last column panels of
  /// 1-16 columns take the AVX-512 kernels' narrow path (33, 65, 71, 97; 12 x 16 exactly).
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 33, 7), (5, 7, 3), (12, 16, 9), (13, 17, 15), (14, 32, 64), (15, 31, 33), (29, 71, 333), (65, 65, 32),
    (197, 64, 197), (197, 97, 401),
  ]
  static let transposes: [(MatrixTranspose, MatrixTranspose)] = [(.none, .none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)]

  static func runs(_ name: String) -> Bool { SGEMMKernel.named(name)?.isSupported ?? false }

  @Test(arguments: shapes, transposes) func portable(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) {
    kernelMatches("portable", shape, transposes)
  }
  // Skipped where the CPU lacks AVX2+FMA (or off x86, where the kernel is not compiled in).
  @Test(.enabled(if: runs("avx2-6x16"), "avx2-6x16 skipped: this CPU has no AVX2+FMA"), arguments: shapes, transposes)
  func avx2_6x16(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) { kernelMatches("avx2-6x16", shape, transposes) }
  // Zen 4's kernel runs on any AVX-512 CPU, Intel's included.
  @Test(.enabled(if: runs("avx512-12x32"), "avx512-12x32 (AMD Zen 4) skipped: this CPU has no AVX-512F"), arguments: shapes, transposes)
  func avx512_12x32(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) {
    kernelMatches("avx512-12x32", shape, transposes)
  }
  // Intel's kernel runs on any AVX-512 CPU, Zen 4 included, so both are tested on either.
  @Test(.enabled(if: runs("avx512-14x32"), "avx512-14x32 (Intel) skipped: this CPU has no AVX-512F"), arguments: shapes, transposes)
  func avx512_14x32(shape: (Int, Int, Int), transposes: (MatrixTranspose, MatrixTranspose)) {
    kernelMatches("avx512-14x32", shape, transposes)
  }

  /// Both epilogues of each kernel: storing the first depth slice plus the bias over a C of NaN
  /// (beta = 0: C must not be read), and adding onto C (beta = 0.25).
  @Test func portableEpilogues() { epiloguesMatch("portable") }
  @Test(.enabled(if: runs("avx2-6x16"), "avx2-6x16 skipped: this CPU has no AVX2+FMA"))
  func avx2_6x16Epilogues() { epiloguesMatch("avx2-6x16") }
  @Test(.enabled(if: runs("avx512-12x32"), "avx512-12x32 (AMD Zen 4) skipped: this CPU has no AVX-512F"))
  func avx512_12x32Epilogues() { epiloguesMatch("avx512-12x32") }
  @Test(.enabled(if: runs("avx512-14x32"), "avx512-14x32 (Intel) skipped: this CPU has no AVX-512F"))
  func avx512_14x32Epilogues() { epiloguesMatch("avx512-14x32") }

  /// The kernels differ in tile and blocking only: each element's sum runs over k in the same
  /// order, so on one depth slice all AVX kernels agree bit for bit (portable C may not fuse).
  @Test(.enabled(if: runs("avx512-12x32") && runs("avx512-14x32"), "avx512-12x32 and avx512-14x32 skipped: this CPU has no AVX-512F"))
  func avx512KernelsAgreeExactly() {
    let kernels = ["avx512-12x32", "avx512-14x32"].compactMap(SGEMMKernel.named)
    let (m, n, k) = (197, 100, 150)  // k under every kc: one slice, one order
    var rng = SplitMix64(seed: 4)
    let a = (0..<(m * k)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) }
    let results = kernels.map { kernel in
      var c = [Float](repeating: 0, count: m * n)
      sgemm(kernel: kernel, .none, .transposed, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &c, ldc: n)
      return c
    }
    #expect(results[0] == results[1])
  }

  /// Detection picks the kernel shaped for the CPU's vendor at its widest instruction set:
  /// 12x32 on AMD with AVX-512 (Zen 4), 14x32 on Intel with AVX-512, else the widest there is.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["CVA_SGEMM_KERNEL"] == nil, "CVA_SGEMM_KERNEL overrides detection"))
  func detectionPicksTheVendorsKernel() {
    let vendor = cva_cpu_vendor()
    let expected: String
    if Self.runs("avx512-12x32") {
      expected = vendor == Int32(CVA_VENDOR_INTEL) ? "avx512-14x32" : "avx512-12x32"
    } else {
      expected = Self.runs("avx2-6x16") ? "avx2-6x16" : "portable"
    }
    #expect(SGEMMKernel.chosen.name == expected, "vendor \(vendor): chose \(SGEMMKernel.chosen), expected \(expected)")
    #expect(SGEMMKernel.requestProblem == nil)
  }

  /// Block sizes follow the detected caches: kc keeps a B micro-panel within L1, nc·kc within L2.
  @Test func blockingFollowsTheCaches() {
    let caches = CPUCaches.detected
    #expect(caches.l1Data >= 16 << 10 && caches.l2 >= caches.l1Data, "\(caches)")
    for kernel in SGEMMKernel.all {
      let (mc, kc, nc) = kernel.block
      #expect(kc % 16 == 0 && kc >= 64, "\(kernel)")
      #expect(kc * kernel.tile.columns * 4 <= max(caches.l1Data, 64 * kernel.tile.columns * 4), "\(kernel): B micro-panel over L1 (\(caches))")
      #expect(mc % kernel.tile.rows == 0 && nc % kernel.tile.columns == 0, "\(kernel)")
      #expect(nc * kc * 4 <= max(caches.l2 / 2, 4 * kernel.tile.columns * kc * 4), "\(kernel): B block over half of L2 (\(caches))")
    }
  }

  func epiloguesMatch(_ name: String) {
    guard let kernel = SGEMMKernel.named(name), kernel.isSupported else {
      Issue.record("\(name) is not runnable here, yet its test was enabled")
      return
    }
    let (m, n, k) = (29, 71, 333)
    var rng = SplitMix64(seed: 9)
    let a = (0..<(m * k)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) }
    let bias = (0..<n).map { _ in Float(rng.nextStandardNormal()) }
    for beta: Float in [0, 0.25] {
      var fast = [Float](repeating: beta == 0 ? .nan : 1, count: m * n), slow = [Float](repeating: 1, count: m * n)
      let ran = bias.withUnsafeBufferPointer { pb in
        sgemm(kernel: kernel, .none, .transposed, m: m, n: n, k: k, alpha: 1.5, a: a, lda: k, b: b, ldb: k, beta: beta, bias: pb.baseAddress, c: &fast, ldc: n)
      }
      #expect(ran)
      sgemmReference(.none, .transposed, m: m, n: n, k: k, alpha: 1.5, a: a, lda: k, b: b, ldb: k, beta: beta, c: &slow, ldc: n)
      for i in 0..<(m * n) { slow[i] += bias[i % n] }
      let worst = zip(fast, slow).map { abs($0 - $1) / max(1, abs($1)) }.max()!
      #expect(worst < 1e-4, "\(name) beta \(beta): relative error \(worst)")  // Float32 sums of 333 terms
    }
  }

  func kernelMatches(_ name: String, _ shape: (Int, Int, Int), _ transposes: (MatrixTranspose, MatrixTranspose)) {
    guard let kernel = SGEMMKernel.named(name), kernel.isSupported else {
      Issue.record("\(name) is not runnable here, yet its test was enabled")
      return
    }
    let (m, n, k) = shape
    var rng = SplitMix64(seed: UInt64(m * 7919 + n * 31 + k))
    let aRows = transposes.0 == .none ? m : k, aColumns = transposes.0 == .none ? k : m
    let bRows = transposes.1 == .none ? k : n, bColumns = transposes.1 == .none ? n : k
    let lda = aColumns + 3, ldb = bColumns + 3, ldc = n + 3  // padded: strides differ from widths
    let a = (0..<(aRows * lda)).map { _ in Float(rng.nextStandardNormal()) }
    let b = (0..<(bRows * ldb)).map { _ in Float(rng.nextStandardNormal()) }
    let c0 = (0..<(m * ldc)).map { _ in Float(rng.nextStandardNormal()) }
    var fast = c0, slow = c0
    let ran = sgemm(kernel: kernel, transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.75, a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: &fast, ldc: ldc)
    #expect(ran, "\(name) did not run")
    sgemmReference(transposes.0, transposes.1, m: m, n: n, k: k, alpha: 0.75, a: a, lda: lda, b: b, ldb: ldb, beta: -0.5, c: &slow, ldc: ldc)
    // Float32 accumulation over k terms of unit variance: error grows like sqrt(k)·eps.
    let tolerance = Float(k).squareRoot() * 1e-5 + 1e-5
    for i in 0..<m {
      for j in 0..<n where abs(fast[i * ldc + j] - slow[i * ldc + j]) > tolerance * max(1, abs(slow[i * ldc + j])) {
        Issue.record("\(name) \(shape) \(transposes): C[\(i),\(j)] = \(fast[i * ldc + j]), reference \(slow[i * ldc + j])")
        return
      }
      for j in n..<ldc where fast[i * ldc + j] != c0[i * ldc + j] {
        Issue.record("\(name) \(shape): wrote into C's padding at row \(i)")
        return
      }
    }
  }
}
