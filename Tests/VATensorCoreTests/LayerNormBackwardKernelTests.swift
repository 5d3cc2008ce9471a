import CVAKernels
import Testing
import VATensorCore
import VATestSupport

/// The layer norm backward kernel (cva_layer_norm_backward) on every code path against the
/// formula in Double, for widths around the vector lengths (masked and scalar tails), with and
/// without a weight, with and without dx. Gradients of whole layers are checked against
/// PyTorch elsewhere (GradientTests, the fixtures); this pins each path.
struct LayerNormBackwardKernelTests {
  @Test func portable() { matchesTheFormula(level: 0) }
  @Test(.enabled(if: KernelLevel.avx2, "this CPU (or CVA_SGEMM_KERNEL) has no AVX2")) func avx2() { matchesTheFormula(level: 1) }
  @Test(.enabled(if: KernelLevel.avx512, "this CPU (or CVA_SGEMM_KERNEL) has no AVX-512")) func avx512() { matchesTheFormula(level: 2) }

  func matchesTheFormula(level: Int32) {
    var rng = SplitMix64(seed: 29)
    for c in [1, 7, 8, 15, 16, 17, 33, 128, 200] {
      for weighted in [true, false] {
        let rows = 5
        let g = (0..<(rows * c)).map { _ in Float(rng.nextStandardNormal()) }
        let xhat = (0..<(rows * c)).map { _ in Float(rng.nextStandardNormal()) }
        let rstd = (0..<rows).map { _ in 0.5 + rng.nextUnitFloat() }
        let w: [Float]? = weighted ? (0..<c).map { _ in Float(rng.nextStandardNormal()) } : nil
        // dw and db start non-zero: the kernel adds to them.
        let dwStart = (0..<c).map { Float($0) * 0.25 }, dbStart = (0..<c).map { -Float($0) * 0.5 }
        var dx = [Float](repeating: .nan, count: rows * c), dw = dwStart, db = dbStart
        let ran = withOptionalPointer(w) { cva_layer_norm_backward_at_level(level, rows, c, g, xhat, rstd, $0, &dx, &dw, &db) }
        guard ran == 1 else { Issue.record("level \(level) did not run"); return }
        var dwOnly = dwStart, dbOnly = dbStart
        _ = withOptionalPointer(w) { cva_layer_norm_backward_at_level(level, rows, c, g, xhat, rstd, $0, nil, &dwOnly, &dbOnly) }

        for r in 0..<rows {
          let d = (0..<c).map { Double(g[r * c + $0]) * Double(w?[$0] ?? 1) }
          let meanD = d.reduce(0, +) / Double(c)
          let meanDX = (0..<c).map { d[$0] * Double(xhat[r * c + $0]) }.reduce(0, +) / Double(c)
          for j in 0..<c {
            let expected = Double(rstd[r]) * (d[j] - meanD - Double(xhat[r * c + j]) * meanDX)
            // Float sums of c terms of size ~|d|: c·ε relative to Σ|d| bounds the rounding.
            let scale = Double(rstd[r]) * (1 + abs(d[j]) + d.map(abs).max()! * (1 + abs(Double(xhat[r * c + j]))))
            #expect(abs(Double(dx[r * c + j]) - expected) <= 4e-7 * Double(c + 4) * scale, "dx[\(r), \(j)] c \(c) level \(level)")
          }
        }
        for j in 0..<c {
          let expectedW = Double(dwStart[j]) + (0..<rows).map { Double(g[$0 * c + j]) * Double(xhat[$0 * c + j]) }.reduce(0, +)
          let expectedB = Double(dbStart[j]) + (0..<rows).map { Double(g[$0 * c + j]) }.reduce(0, +)
          #expect(abs(Double(dw[j]) - expectedW) <= 1e-5 * (1 + abs(expectedW)), "dw[\(j)] c \(c) level \(level)")
          #expect(abs(Double(db[j]) - expectedB) <= 1e-5 * (1 + abs(expectedB)), "db[\(j)] c \(c) level \(level)")
        }
        #expect(dwOnly == dw && dbOnly == db, "dx NULL changes dw, db: c \(c) level \(level)")
      }
    }
  }
}

private func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let values else { return body(nil) }
  return values.withUnsafeBufferPointer { body($0.baseAddress) }
}
