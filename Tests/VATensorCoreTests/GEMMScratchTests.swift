import CVAKernels
import Testing
import VATestSupport
@testable import VATensorCore

/// cva_sgemm keeps its packing panels per thread: after the first product of a size, the same
/// product (and any smaller one) on the same thread allocates nothing and gives the same bits.
@Test func repeatedProductsOnOneThreadAllocateNoPackingBuffers() {
  let (m, n, k) = (197, 576, 192)
  var rng = SplitMix64(seed: 41)
  let a = (0..<(m * k)).map { _ in Float(rng.nextStandardNormal()) }
  let b = (0..<(k * n)).map { _ in Float(rng.nextStandardNormal()) }
  var first = [Float](repeating: .nan, count: m * n), again = first, smaller = first
  cva_sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, &first, n)
  let afterFirst = cva_pack_scratch_allocations()
  #expect(afterFirst >= 1)
  cva_sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, &again, n)
  cva_sgemm(0, 1, 50, 60, k, 1, a, k, b, k, 0, &smaller, 60)  // Bᵀ read from the same floats
  #expect(cva_pack_scratch_allocations() == afterFirst)
  #expect(again == first)
  var reference = [Float](repeating: 0, count: m * n)
  cva_sgemm_reference(0, 0, m, n, k, 1, a, k, b, n, 0, &reference, n)
  #expect(maxAbsoluteDifference(first, reference) < 1e-3)
}
