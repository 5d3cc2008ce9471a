import Testing
import VATestSupport
@testable import VATensorCore

@Test func randomInitialisationIsSeededAndHasTheRightMoments() {
  var r1 = SplitMix64(seed: 1), r2 = SplitMix64(seed: 1)
  let a = Tensor.randomNormal([10_000], mean: 2, std: 3, using: &r1)
  let b = Tensor.randomNormal([10_000], mean: 2, std: 3, using: &r2)
  #expect(a.scalars == b.scalars)  // same seed, same generator: bit-identical
  let mean = a.scalars.reduce(0, +) / 10_000
  let variance = a.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10_000
  // 10⁴ samples: the standard error of the mean is 0.03, of the std about 0.02; allow ~5σ.
  #expect(abs(mean - 2) < 0.15 && abs(variance.squareRoot() - 3) < 0.15)
  let t = Tensor.randomTruncatedNormal([10_000], std: 1, a: -0.5, b: 0.5, using: &r1)
  #expect(t.scalars.allSatisfy { $0 >= -0.5 && $0 <= 0.5 })
  let u = Tensor.randomUniform([10_000], low: -1, high: 2, using: &r1)
  #expect(u.scalars.allSatisfy { $0 >= -1 && $0 < 2 })
}

@Test func reshapeSharesValuesAndPermuteMovesThem() {
  let x = Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
  #expect(x.reshaped([3, -1]).shape == [3, 2])
  let t = x.transposed(0, 1)
  #expect(t.shape == [3, 2] && t.scalars == [0, 3, 1, 4, 2, 5])
  let y = Tensor.arange(0..<24).reshaped([2, 3, 4]).permuted([2, 0, 1])
  #expect(y.shape == [4, 2, 3] && y[3, 1, 2] == 23 && y[1, 0, 2] == 9)
}

@Test func broadcastingArithmetic() {
  let x = Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
  #expect((x + Tensor(shape: [3], scalars: [10, 20, 30])).scalars == [10, 21, 32, 13, 24, 35])
  #expect((x * Tensor(shape: [2, 1], scalars: [1, -1])).scalars == [0, 1, 2, -3, -4, -5])
  #expect((Tensor(shape: [2, 1], scalars: [1, 2]) - Tensor(shape: [1, 3], scalars: [1, 2, 3])).scalars == [0, -1, -2, 1, 0, -1])
  #expect((x / Tensor(2)).scalars == [0, 0.5, 1, 1.5, 2, 2.5])
}

@Test func reductions() {
  let x = Tensor.arange(0..<6).reshaped([2, 3])
  #expect(x.sum().item == 15)
  #expect(x.sum(axis: 0).scalars == [3, 5, 7])
  #expect(x.sum(axis: 1, keepDims: true).shape == [2, 1])
  #expect(x.mean(axis: -1).scalars == [1, 4])
  #expect(x.max(axis: 0).scalars == [3, 4, 5])
}

@Test func concatSliceGather() {
  let a = Tensor.arange(0..<4).reshaped([2, 2]), b = Tensor.arange(4..<6).reshaped([2, 1])
  let c = concat([a, b], axis: 1)
  #expect(c.shape == [2, 3] && c.scalars == [0, 1, 4, 2, 3, 5])
  #expect(c.sliced(axis: 1, range: 1..<3).scalars == [1, 4, 3, 5])
  let parts = c.split(sizes: [2, 1], axis: 1)
  #expect(parts[0].scalars == a.scalars && parts[1].scalars == b.scalars)
  #expect(c.gathered(indices: [1, 1, 0], axis: 0).scalars == [2, 3, 5, 2, 3, 5, 0, 1, 4])
}

@Test(arguments: [[0], [1], [2], [1, 2], [0, 2], [0, 1, 2]])
func reductionFastPathsMatchTheOdometer(axes: [Int]) {
  var rng = SplitMix64(seed: 17)
  let x = Tensor.randomNormal([3, 4, 5], using: &rng)
  // Reference: accumulate each element into its output slot by explicit index arithmetic.
  let kept = (0..<3).map { axes.contains($0) ? 1 : x.shape[$0] }
  var expected = [Float](repeating: 0, count: kept.reduce(1, *))
  for i in 0..<3 {
    for j in 0..<4 {
      for k in 0..<5 {
        let (a, b, c) = (axes.contains(0) ? 0 : i, axes.contains(1) ? 0 : j, axes.contains(2) ? 0 : k)
        expected[(a * kept[1] + b) * kept[2] + c] += x[i, j, k]
      }
    }
  }
  #expect(relativeError(x.sum(axes: axes, keepDims: true).scalars, expected) < 1e-6)
}

/// An empty slice is a valid tensor, forward and backward (the copies are block moves).
@Test func emptySlicesAreTensors() {
  let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6], requiresGrad: true)
  let empty = x.sliced(axis: 1, range: 1..<1)
  #expect(empty.shape == [2, 0] && empty.count == 0)
  let middle = x.sliced(axis: 1, range: 1..<2)
  #expect(middle.scalars == [2, 5])
  (middle.sum() + empty.sum()).backward()
  #expect(x.grad?.scalars == [0, 1, 0, 0, 1, 0])
}
