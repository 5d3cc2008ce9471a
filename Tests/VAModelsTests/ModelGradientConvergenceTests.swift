import Testing
import VALayers
import VATensorCore
import VATestSupport
@testable import VAModels

/// Whole-model backward passes checked by the order of their finite-difference error
/// (TestSupport.checkGradientConvergence): halving the step must quarter it.
struct ModelGradientConvergenceTests {
  /// A ConvNet whose every piece is smooth, so central differences follow the h² law: convs
  /// with batch statistics (training mode) and no ReLU, average pooling, a SAGAN block (γ ≠ 0)
  /// after stage 0, global average pooling and the head. ReLU and max pooling have kinks
  /// that a step of useful size crosses (see ConvNetTests for their element-wise checks).
  /// Steps 0.01 and 0.005: truncation errors of 2.4e-3 and 5.9e-4 (measured from h = 0.16).
  @Test func smoothConvNetErrorShrinksAsHSquared() {
    let steps: [Float] = [0.01, 0.005]
    var rng = SplitMix64(seed: 7)
    let configuration = ConvNetConfiguration(
      stages: [
        [.conv(outputs: 4, kernel: 3, padding: 1, activation: .none), .pool(.average, kernel: 2, stride: 2)],
        [.conv(outputs: 4, kernel: 3, stride: 2, padding: 1, activation: .none)],
      ],
      classCount: 3, attention: .init(afterStage: 0, ratio: 2))
    var net = ConvNet(configuration, using: &rng)
    net.attention!.gamma.scalars = [0.8]
    for p in net.parameters where p.count > 1 { p.scalars = Tensor.randomNormal(p.shape, std: 0.5, using: &rng).scalars }
    net.setRequiresGrad(true)
    let x = randomLeaf([2, 3, 8, 8], using: &rng)
    let result = checkGradientConvergence([x] + net.parameters, steps: steps) { _ in net(x, training: true) }
    #expect(result.shrinksQuadratically(), "\(result)")
  }

  /// The whole batched ViT (patch embedding, class and register tokens, positions, a block
  /// with GELU, pooling, head), every parameter along one direction. Steps per pooling: where
  /// the truncation error at the finer step is near 1e-3 (measured from h = 0.04 down), so
  /// a 1% slip would flatten the ratio; class-token pooling is the more curved.
  @Test(arguments: [(ViTConfiguration.GlobalPool.token, [Float(0.005), 0.0025]), (.average, [0.02, 0.01])])
  func vitErrorShrinksAsHSquared(pool: ViTConfiguration.GlobalPool, steps: [Float]) {
    var rng = SplitMix64(seed: 12)
    var configuration = ViTConfiguration(patchSize: 4, embedDimension: 8, depth: 2, headCount: 2, mlpHiddenDimension: 8, imageSize: 8)
    configuration.registerTokens = 1
    configuration.globalPool = pool
    configuration.classCount = 3
    let model = VisionTransformer(configuration, using: &rng)
    // O(1) parameters (timm's init is tiny), small enough that two layers stay near-quadratic.
    for p in model.parameters { p.scalars = (0..<p.count).map { _ in Float(rng.nextStandardNormal()) * 0.25 } }
    model.setRequiresGrad(true)
    let images = Tensor.randomNormal([2, 3, 8, 8], using: &rng)
    let result = checkGradientConvergence(model.parameters, steps: steps) { _ in model(batch: images).logits! }
    #expect(result.shrinksQuadratically(), "\(result)")
  }
}
