import Testing
import VATestSupport
@testable import VATensorCore

// GEMM-backed products against the naive Double reference. Tolerance 1e-5 relative: Float32
// accumulation over K <= 70 terms stays well within that; exact equality would be wrong.

@Test func sgemmMultipliesTwoByTwo() {
  let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
  var c = [Float](repeating: 0, count: 4)
  a.withUnsafeBufferPointer { pa in
    b.withUnsafeBufferPointer { pb in
      c.withUnsafeMutableBufferPointer { pc in
        sgemm(.none, .none, m: 2, n: 2, k: 2, a: pa.baseAddress!, lda: 2, b: pb.baseAddress!, ldb: 2, c: pc.baseAddress!, ldc: 2)
      }
    }
  }
  #expect(c == [19, 22, 43, 50])  // small integers: exact in Float
}

@Test(arguments: [(m: 1, k: 1, n: 1), (m: 3, k: 5, n: 4), (m: 17, k: 70, n: 9)])
func matmulMatchesReference(m: Int, k: Int, n: Int) {
  var rng = SplitMix64(seed: 7)
  let a = Tensor.randomNormal([2, m, k], using: &rng), b = Tensor.randomNormal([2, k, n], using: &rng)
  #expect(relativeError(matmul(a, b), matmulReference(a, b)) < 1e-5)
}

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func matmulTransposesMatchExplicitTranspose(ta: Bool, tb: Bool) {
  var rng = SplitMix64(seed: 3)
  let a = Tensor.randomNormal(ta ? [2, 4, 3] : [2, 3, 4], using: &rng)
  let b = Tensor.randomNormal(tb ? [2, 5, 4] : [2, 4, 5], using: &rng)
  let expected = matmulReference(ta ? a.transposed(-1, -2) : a, tb ? b.transposed(-1, -2) : b)
  #expect(relativeError(matmul(a, b, transposeA: ta, transposeB: tb), expected) < 1e-5)
}

@Test func matmulBroadcastsSharedMatrix() {
  var rng = SplitMix64(seed: 5)
  let a = Tensor.randomNormal([2, 3, 4, 6], using: &rng), w = Tensor.randomNormal([6, 5], using: &rng)
  let expected = matmulReference(a.reshaped([24, 6]), w).reshaped([2, 3, 4, 5])
  #expect(relativeError(matmul(a, w), expected) < 1e-5)
  // And the mirrored case: a shared left matrix against batched right ones.
  let l = Tensor.randomNormal([4, 6], using: &rng), r = Tensor.randomNormal([3, 6, 2], using: &rng)
  let mirrored = concat((0..<3).map { matmulReference(l, r.sliced(axis: 0, range: $0..<($0 + 1)).squeezed(0)).unsqueezed(0) }, axis: 0)
  #expect(relativeError(matmul(l, r), mirrored) < 1e-5)
}

@Test func linearMatchesPyTorchLayout() {
  let x = Tensor(shape: [1, 2], scalars: [1, 2])
  let w = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
  let b = Tensor(shape: [3], scalars: [0.5, 0, -1])
  #expect(linear(x, weight: w, bias: b).scalars == [1.5, 2, 2])
  #expect(linear(Tensor(shape: [2], scalars: [1, 2]), weight: w).shape == [3])
}

@Test(arguments: [[5], [3, 5], [2, 3, 5]])
func fusedLinearMatchesUnfusedReference(inputShape: [Int]) {
  var rng = SplitMix64(seed: 21)
  let x = Tensor.randomNormal(inputShape, using: &rng)
  let w = Tensor.randomNormal([4, 5], using: &rng), b = Tensor.randomNormal([4], using: &rng)
  #expect(relativeError(linear(x, weight: w, bias: b), linearReference(x, weight: w, bias: b)) < 1e-6)
  #expect(relativeError(linear(x, weight: w), linearReference(x, weight: w)) < 1e-6)
}
