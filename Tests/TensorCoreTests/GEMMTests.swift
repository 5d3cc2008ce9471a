import Testing
@testable import TensorCore

@Test func sgemmMultipliesTwoByTwo() {
  let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
  var c = [Float](repeating: 0, count: 4)
  a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
    sgemm(.none, .none, m: 2, n: 2, k: 2, a: pa.baseAddress!, lda: 2, b: pb.baseAddress!, ldb: 2, c: pc.baseAddress!, ldc: 2)
  }}}
  #expect(c == [19, 22, 43, 50])
}
