import CVAKernels
import Testing
@testable import VATensorCore

/// The layer-norm prologue (`SGEMMPrologue.layerNorm`: A normalised as it is packed) on every
/// micro-kernel, against two references built without it: the composed `layerNorm` then the same
/// kernel's GEMM (which should agree to the last bits, since each normalised value is the same),
/// and the composed `layerNorm` then the naive Double-accumulating loop. A kernel this CPU cannot
/// run is reported as skipped under its own name, as in `GEMMKernelPathTests`.
struct GEMMPrologueKernelTests {
  /// M, N, K: 1, odd, below and past each tile (6, 12, 14 rows; 16, 32 columns), more rows than
  /// one mc block (96-168 here) and depths over several kc slices (176-320), ViT-S's fc1.
  static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 33, 7), (5, 7, 3), (13, 17, 15), (14, 32, 64), (29, 71, 333), (197, 97, 401), (197, 384, 1536)]

  static func runs(_ name: String) -> Bool { SGEMMKernel.named(name)?.isSupported ?? false }

  @Test(arguments: shapes) func portable(shape: (Int, Int, Int)) { prologueMatches("portable", shape) }
  @Test(.enabled(if: runs("avx2-6x16"), "avx2-6x16 skipped: this CPU has no AVX2+FMA"), arguments: shapes)
  func avx2_6x16(shape: (Int, Int, Int)) { prologueMatches("avx2-6x16", shape) }
  @Test(.enabled(if: runs("avx512-12x32"), "avx512-12x32 (AMD Zen 4) skipped: this CPU has no AVX-512F"), arguments: shapes)
  func avx512_12x32(shape: (Int, Int, Int)) { prologueMatches("avx512-12x32", shape) }
  @Test(.enabled(if: runs("avx512-14x32"), "avx512-14x32 (Intel) skipped: this CPU has no AVX-512F"), arguments: shapes)
  func avx512_14x32(shape: (Int, Int, Int)) { prologueMatches("avx512-14x32", shape) }

  /// The naive loop with the prologue (what `sgemm` falls back on when it cannot allocate its
  /// panels) against the composed `layerNorm` then the naive loop.
  @Test func referenceLoopNormalisesAsItReads() {
    let (m, n, k) = (13, 9, 37)
    var rng = SplitMix64(seed: 21)
    let x = Tensor.randomNormal([m, k], mean: 0.5, std: 2, using: &rng)
    let b = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) }
    let gamma = Tensor.randomNormal([k], mean: 1, std: 0.3, using: &rng), beta = Tensor.randomNormal([k], mean: 0, std: 0.5, using: &rng)
    let normalized = layerNorm(x, weight: gamma, bias: beta, eps: 1e-6)
    let (mean, rstd) = layerNormStatistics(x, rows: m, channels: k, eps: 1e-6)
    var fused = [Float](repeating: 0, count: m * n), composed = fused
    mean.withUnsafeBufferPointer { pm in
      rstd.withUnsafeBufferPointer { pr in
        gamma.scalars.withUnsafeBufferPointer { pg in
          beta.scalars.withUnsafeBufferPointer { pb in
            var prologue = cva_prologue(
              kind: Int32(CVA_PROLOGUE_LAYER_NORM), mean: pm.baseAddress, rstd: pr.baseAddress, gamma: pg.baseAddress, beta: pb.baseAddress)
            cva_sgemm_reference_prologue(0, 1, m, n, k, 1.25, x.scalars, k, b, k, 0, &prologue, &fused, n)
          }
        }
      }
    }
    sgemmReference(.none, .transposed, m: m, n: n, k: k, alpha: 1.25, a: normalized.scalars, lda: k, b: b, ldb: k, c: &composed, ldc: n)
    let worst = zip(fused, composed).map { abs($0 - $1) / max(1, abs($1)) }.max()!
    #expect(worst <= 1e-6, "relative error \(worst)")  // both sum in Double: the same normalised values
  }

  /// One kernel on one shape: with and without the norm's gamma and beta, with the bias stored
  /// over a C of NaN (beta 0) and added onto C (beta −0.5, so C is read), no epilogue and GELU.
  func prologueMatches(_ name: String, _ shape: (Int, Int, Int)) {
    guard let kernel = SGEMMKernel.named(name), kernel.isSupported else {
      Issue.record("\(name) is not runnable here, yet its test was enabled")
      return
    }
    let (m, n, k) = shape
    var rng = SplitMix64(seed: UInt64(m * 7919 + n * 31 + k))
    let x = Tensor.randomNormal([m, k], mean: 0.3, std: 1.5, using: &rng)
    let weight = (0..<(n * k)).map { _ in Float(rng.nextStandardNormal()) * 0.2 }
    let bias = (0..<n).map { _ in Float(rng.nextStandardNormal()) }
    let gamma = Tensor.randomNormal([k], mean: 1, std: 0.3, using: &rng), shift = Tensor.randomNormal([k], mean: 0, std: 0.5, using: &rng)
    let c0 = (0..<(m * n)).map { _ in Float(rng.nextStandardNormal()) }
    // A stored with a padded row stride, so the prologue's row offsets and A's differ.
    let lda = k + 3
    var a = [Float](repeating: 0, count: m * lda)
    for i in 0..<m { for p in 0..<k { a[i * lda + p] = x.scalars[i * k + p] } }
    let (mean, rstd) = layerNormStatistics(x, rows: m, channels: k, eps: 1e-6)
    for (normWeight, normBias) in [(gamma, shift), (gamma, nil), (nil, nil)] as [(Tensor?, Tensor?)] {
      let normalized = layerNorm(x, weight: normWeight, bias: normBias, eps: 1e-6).scalars
      for (beta, epilogue) in [(Float(0), SGEMMEpilogue.none), (0, .geluErf), (-0.5, .none)] {
        let label = "\(name) \(shape) gamma \(normWeight != nil) beta \(normBias != nil) C-beta \(beta) \(epilogue)"
        // beta 0: C starts as NaN, which the GEMM must overwrite without reading.
        let start = beta == 0 ? [Float](repeating: .nan, count: m * n) : c0
        var fused = start, composed = start, reference = c0
        let ran = mean.withUnsafeBufferPointer { pm in
          rstd.withUnsafeBufferPointer { pr in
            withOptionalValues(normWeight) { pg in
              withOptionalValues(normBias) { pb in
                let prologue = SGEMMPrologue.layerNorm(mean: pm.baseAddress!, rstd: pr.baseAddress!, gamma: pg, beta: pb)
                let first = sgemm(
                  kernel: kernel, .none, .transposed, m: m, n: n, k: k, alpha: 0.75, a: a, lda: lda, b: weight, ldb: k, beta: beta,
                  bias: bias, prologue: prologue, epilogue: epilogue, c: &fused, ldc: n)
                let second = sgemm(
                  kernel: kernel, .none, .transposed, m: m, n: n, k: k, alpha: 0.75, a: normalized, lda: k, b: weight, ldb: k, beta: beta,
                  bias: bias, epilogue: epilogue, c: &composed, ldc: n)
                return first && second
              }
            }
          }
        }
        #expect(ran, "\(label): did not run")
        let sameKernel = zip(fused, composed).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(sameKernel <= 1e-5, "\(label): fused vs composed on the same kernel, relative error \(sameKernel)")
        // Independent of every kernel: the composed norm, then Double sums.
        sgemmReference(.none, .transposed, m: m, n: n, k: k, alpha: 0.75, a: normalized, lda: k, b: weight, ldb: k, beta: beta, c: &reference, ldc: n)
        for i in 0..<(m * n) { reference[i] += bias[i % n] }
        if case .geluErf = epilogue { reference = gelu(Tensor(shape: [m * n], scalars: reference), approximation: .exact).scalars }
        // Float32 sums of k terms of about unit size: error grows like √k·ε (as GEMMKernelPathTests).
        let tolerance = Float(k).squareRoot() * 1e-5 + 1e-5
        let naive = zip(fused, reference).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(naive <= tolerance, "\(label): fused vs the naive loop, relative error \(naive) over \(tolerance)")
      }
    }
  }
}
