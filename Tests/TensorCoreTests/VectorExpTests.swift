import CKernels
import Foundation
import Testing

/// The vectorised exp behind softmax, every code path against Foundation's exp in Double.
struct VectorExpTests {
  @Test(arguments: [Int32(0), 1, 2])
  func matchesExpOnEveryPath(level: Int32) {
    // Values across the whole range softmax sees after subtracting the row maximum, plus
    // the edges: underflow to exactly 0, -inf from masked entries, and 0 itself.
    var values: [Float] = (0..<1000).map { -90 + Float($0) * 0.09 } + [-.infinity, 0, -87.4, -87.2, -1e-8]
    let original = values
    let sum = ck_exp_shifted_sum_at_level(level, &values, values.count, 0)
    guard !sum.isNaN else { return }  // this CPU lacks the level
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
