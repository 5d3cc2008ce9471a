import CVAKernels
import Foundation
import Testing

/// The vectorised exp behind softmax, every code path against Foundation's exp in Double.
struct VectorExpTests {
  @Test func portable() { matchesExp(level: 0) }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2")) func avx2() { matchesExp(level: 1) }
  @Test(.enabled(if: KernelLevel.avx512, "this CPU (or CVA_SGEMM_KERNEL) has no AVX-512")) func avx512() { matchesExp(level: 2) }

  func matchesExp(level: Int32) {
    // Values across the whole range softmax sees after subtracting the row maximum, plus
    // the edges: underflow to exactly 0, -inf from masked entries, and 0 itself.
    var values: [Float] = (0..<1000).map { -90 + Float($0) * 0.09 } + [-.infinity, 0, -87.4, -87.2, -1e-8]
    let original = values
    let sum = cva_exp_shifted_sum_at_level(level, &values, values.count, 0)
    guard !sum.isNaN else { Issue.record("level \(level) did not run"); return }
    var expectedSum = 0.0
    for (x, e) in zip(original, values) {
      let reference = Foundation.exp(Double(x))
      expectedSum += reference
      if reference < 1e-37 {
        #expect(e < 1e-37, "exp(\(x)) = \(e) on level \(level)")
      } else {
        #expect(abs(Double(e) - reference) <= 3e-7 * reference, "exp(\(x)) = \(e), reference \(reference), level \(level)")
      }
    }
    #expect(values[1000] == 0, "exp(-inf) must be exactly 0")
    #expect(abs(Double(sum) - expectedSum) <= 1e-5 * expectedSum)
  }
}

/// The vectorised exact GELU, every code path against libm's erf in Double.
struct VectorGELUTests {
  @Test func portable() { matchesErf(level: 0) }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2")) func avx2() { matchesErf(level: 1) }
  @Test(.enabled(if: KernelLevel.avx512, "this CPU (or CVA_SGEMM_KERNEL) has no AVX-512")) func avx512() { matchesErf(level: 2) }

  func matchesErf(level: Int32) {
    let x: [Float] = (0..<2003).map { -10 + Float($0) * 0.01 } + [0, -0, 1e-6, -1e-6, 30, -30]
    var y = [Float](repeating: .nan, count: x.count)
    guard cva_gelu_erf_at_level(level, x, &y, x.count) == 1 else { Issue.record("level \(level) did not run"); return }
    for (v, out) in zip(x, y) {
      let reference = 0.5 * Double(v) * (1 + erf(Double(v) / 2.0.squareRoot()))
      // A&S 7.1.26 is 1.5e-7 absolute in erf, times 0.5|x| (0.75e-7 |x|), plus half an ulp of
      // the Float result (0.6e-7 |x|): 2e-7 (1 + |x|) bounds both.
      #expect(abs(Double(out) - reference) <= 2e-7 * (1 + abs(Double(v))), "gelu(\(v)) = \(out), reference \(reference), level \(level)")
    }
  }
}

/// The vectorised GELU backward, every code path against the analytic derivative in Double.
struct VectorGELUBackwardTests {
  @Test func portable() { matchesDerivative(level: 0) }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2")) func avx2() { matchesDerivative(level: 1) }
  @Test(.enabled(if: KernelLevel.avx512, "this CPU (or CVA_SGEMM_KERNEL) has no AVX-512")) func avx512() { matchesDerivative(level: 2) }

  func matchesDerivative(level: Int32) {
    let x: [Float] = (0..<2003).map { -10 + Float($0) * 0.01 } + [0, -0, 1e-6, -1e-6, 30, -30]
    let g: [Float] = x.indices.map { Float($0 % 7) - 3 }
    var dx = [Float](repeating: .nan, count: x.count)
    guard cva_gelu_erf_backward_at_level(level, x, g, &dx, x.count) == 1 else { Issue.record("level \(level) did not run"); return }
    for i in x.indices {
      let v = Double(x[i])
      let derivative = 0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
      // Φ carries erf's 0.75e-7; x φ(x) the exp's 1e-7 relative, at most 0.25e-7: 2e-7 of |g|.
      #expect(abs(Double(dx[i]) - Double(g[i]) * derivative) <= 2e-7 * (1 + abs(Double(g[i]))), "gelu'(\(v)) level \(level)")
    }
  }
}

/// Softmax's row maximum on every code path against `Array.max()`, for lengths around the
/// vector width (masked tail) and with -inf (masked) entries.
struct RowMaxTests {
  @Test func portable() { rowMaxMatches(level: 0) }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2")) func avx2() { rowMaxMatches(level: 1) }
  @Test(.enabled(if: KernelLevel.avx512, "this CPU (or CVA_SGEMM_KERNEL) has no AVX-512")) func avx512() { rowMaxMatches(level: 2) }
}

func rowMaxMatches(level: Int32) {
  for count in [1, 7, 16, 31, 32, 33, 197] {
    var values = (0..<count).map { Float(($0 * 37) % 101) - 50 }
    values[count / 2] = 51  // the maximum somewhere inside, not in the first lane
    if count > 2 { values[0] = -.infinity }
    let result = cva_max_at_level(level, values, values.count)
    guard !result.isNaN else { Issue.record("level \(level) did not run"); return }
    #expect(result == values.max()!, "length \(count)")
  }
  #expect(cva_max_at_level(0, [Float](), 0) == -.infinity)
}
