import Testing
import VATensorCore
import VATestSupport
@testable import VALayers

/// Backward passes checked by the order of their finite-difference error: halving the step
/// must quarter it (TestSupport.checkGradientConvergence), which a backward wrong by 1%
/// cannot do, where a loose 1e-2 tolerance lets such a slip through.
struct LayerGradientConvergenceTests {
  @Test func attentionErrorShrinksAsHSquared() {
    var rng = SplitMix64(seed: 3)
    let qkv = Linear(weight: randomLeaf([12, 4], using: &rng), bias: randomLeaf([12], using: &rng))
    let projection = Linear(weight: randomLeaf([4, 4], using: &rng), bias: randomLeaf([4], using: &rng))
    let x = randomLeaf([7, 4], using: &rng)
    let inputs = [x, qkv.weight, qkv.bias!, projection.weight, projection.bias!]
    let result = checkGradientConvergence(inputs, steps: [0.08, 0.04, 0.02]) { t in
      MultiHeadSelfAttention(qkv: Linear(weight: t[1], bias: t[2]), projection: Linear(weight: t[3], bias: t[4]), headCount: 2)(t[0]).output
    }
    #expect(result.shrinksQuadratically(), "\(result)")
  }

  /// SAGAN's layouts without pooling (max pooling has kinks, so no smooth h² law there) and
  /// with spectral normalisation. Steps per case: where the h³ term dominates both the
  /// forward's Float rounding (below ~1e-5 relative) and the higher-order terms (with
  /// `.full`, the h⁵ term cancels part of the h³ term above h = 0.02; measured errors at
  /// h = 0.16 … 0.0025 were used to choose).
  @Test(arguments: [
    (SAGANAttention.ValueForm.bigGAN, false, [Float(0.02), 0.01]), (.paper, true, [0.04, 0.02, 0.01]), (.full, false, [0.01, 0.005]),
  ])
  func saganErrorShrinksAsHSquared(form: SAGANAttention.ValueForm, spectral: Bool, steps: [Float]) {
    var rng = SplitMix64(seed: 2)
    var module = SAGANAttention(channels: 8, ratio: 4, valueForm: form, spectralNorm: spectral, using: &rng)
    for p in module.parameters {
      p.scalars = Tensor.randomNormal(p.shape, std: 0.7, using: &rng).scalars
      p.requiresGrad = true
    }
    let x = randomLeaf([8, 2, 4], using: &rng)
    // Converge spectral norm's power iteration first, so σ is the largest singular value
    // rather than a random projection that may be near 0.
    if spectral { for _ in 0..<30 { _ = withGradientsDisabled { module(x, training: true) } } }
    let result = checkGradientConvergence([x] + module.parameters, steps: steps) { _ in module(x).output }
    #expect(result.shrinksQuadratically(), "\(result)")
  }
}
