import VATensorCore
import VATestSupport
import Testing
@testable import VALayers

struct ConvLayersTests {
  @Test func conv2DIsTheConvolutionOpWithItsGeometry() {
    var rng = SplitMix64(seed: 1)
    let layer = Conv2D(inputs: 4, outputs: 6, kernel: 3, stride: 2, padding: 2, dilation: 2, groups: 2, using: &rng)
    #expect(layer.weight.shape == [6, 2, 3, 3] && layer.bias?.shape == [6])
    #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
    let x = Tensor.randomNormal([2, 4, 7, 9], using: &rng)
    let y = layer(x)
    let reference = conv2dReference(x, weight: layer.weight, bias: layer.bias, stride: (2, 2), padding: (2, 2), dilation: (2, 2), groups: 2)
    #expect(y.shape == [2, 6, 4, 5])
    // im2col + GEMM in Float against the direct loop in Double: rounding only.
    #expect(relativeError(y, reference) < 1e-5)
  }

  @Test func conv2DInitialisesWithHeFanOut() {
    var rng = SplitMix64(seed: 2)
    let layer = Conv2D(inputs: 16, outputs: 32, kernel: 3, bias: false, using: &rng)
    let values = layer.weight.scalars
    let std = (values.reduce(0) { $0 + $1 * $1 } / Float(values.count)).squareRoot()
    let expected = (2 / Float(32 * 9)).squareRoot()
    // 4608 draws: the sample std is within ~1% of the true one (3σ ≈ 3/√(2·4608) ≈ 3%).
    #expect(abs(std / expected - 1) < 0.03, "std \(std), expected \(expected)")
    #expect(layer.bias == nil && layer.namedParameters.map(\.name) == ["weight"])
  }

  @Test func batchNorm2DUpdatesItsBuffersOnlyWhenTraining() {
    let bn = BatchNorm2D(channels: 2)
    #expect(bn.namedParameters.map(\.name) == ["weight", "bias"])
    #expect(bn.namedBuffers.map(\.name) == ["running_mean", "running_var"])
    var rng = SplitMix64(seed: 3)
    let x = Tensor.randomNormal([4, 2, 3, 3], mean: 2, std: 1, using: &rng)
    _ = bn(x, training: false)
    #expect(bn.runningMean.scalars == [0, 0] && bn.runningVariance.scalars == [1, 1])
    _ = bn(x, training: true)
    // 0.9 · 0 + 0.1 · (a batch mean near 2)
    #expect(bn.runningMean.scalars.allSatisfy { $0 > 0.1 && $0 < 0.3 }, "\(bn.runningMean)")
  }
}
