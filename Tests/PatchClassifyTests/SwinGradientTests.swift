import Foundation
import Testing
import VAModels
import VASafetensors
import VATensorCore

/// The Swin forward's backward against PyTorch autograd, and a fresh Swin against timm's layout
/// and initialisation.
///
/// Fixtures/swin-gradients (a tiny random timm Swin in timm's hub layout, a batch of two 48-pixel
/// inputs, a random projection of the logits and autograd's float64 gradients of
/// `sum(logits * projection)`) were written by Scripts/reference/swin_gradient_fixtures.py
/// (timm 1.0.31, torch 2.15). Regenerate: python3 Scripts/reference/swin_gradient_fixtures.py
struct SwinGradientTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let fixture = repository + "/Tests/PatchClassifyTests/Fixtures/swin-gradients"

  /// `max |a − b| / max |b|`: the error relative to the reference's largest magnitude.
  static func peakRelativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "\(a.count) values against \(b.count)")
    let peak = b.reduce(0) { max($0, abs(Double($1))) }
    return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) } / max(peak, 1e-30)
  }

  /// Every parameter's gradient and the input's, through window attention with its relative
  /// position bias, the shifted blocks' masks (over a rolled, then padded 6x6 map in stage 1),
  /// the patch merging, LayerNorms, MLPs, the mean pool and the head, within 1e-5 of autograd's
  /// float64 gradients relative to each tensor's largest (float32 here; measured at most 6.1e-7, on a table).
  @Test func gradientsMatchPyTorchAutograd() throws {
    let model = try SwinTransformer.load(from: Self.fixture)
    model.setRequiresGrad(true)
    let reference = try SafetensorsFile(path: Self.fixture + "/reference.safetensors")
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"), requiresGrad: true)
    let projection = Tensor(shape: [2, 5], scalars: try reference.floats("projection"))
    let logits = try #require(try model(batch: input).logits)
    #expect(Self.peakRelativeError(logits.scalars, try reference.floats("logits")) < 1e-5, "logits")
    (logits * projection).sum().backward()

    let names = model.namedParameters.map(\.name)
    let referenced = reference.tensorNames.filter { $0.hasPrefix("grad.") && $0 != "grad.input" }.map { String($0.dropFirst(5)) }
    #expect(Set(names) == Set(referenced), "parameters without a reference gradient, or the reverse")
    #expect(names.count == 63)
    for (name, tensor) in model.namedParameters {
      let grad = try #require(tensor.grad, "\(name) has no gradient")
      let expected = try reference.floats("grad." + name)
      #expect(expected.contains { $0 != 0 }, "\(name): the reference gradient is zero, which checks nothing")
      let error = Self.peakRelativeError(grad.scalars, expected)
      #expect(error < 1e-5, "\(name): gradient off by \(error) of its peak")
    }
    let inputError = Self.peakRelativeError(try #require(input.grad).scalars, try reference.floats("grad.input"))
    #expect(inputError < 1e-5, "input gradient off by \(inputError) of its peak")
  }

  /// A fresh Swin of the fixture's shape has timm's parameter names and shapes (the fixture is
  /// timm's own `state_dict`, tables sized for the windows timm builds at 48 pixels) and timm's
  /// initialisation: Linear weights and tables `trunc_normal_(std=.02)` (cut at ±2 absolute, so in
  /// effect a normal with std 0.02), zero biases, LayerNorms at γ = 1, β = 0, the patch conv
  /// `U(±1/√48)` (PyTorch's default, which timm's Linear-only init leaves).
  @Test func freshModelHasTimmsLayoutAndInitialisation() throws {
    let timm = try SwinTransformer.load(from: Self.fixture)
    var rng = SplitMix64(seed: 7)
    let fresh = SwinTransformer(timm.configuration, imageSize: 48, classes: 5, using: &rng)
    #expect(fresh.namedParameters.map(\.name) == timm.namedParameters.map(\.name))
    #expect(fresh.namedParameters.map(\.tensor.shape) == timm.namedParameters.map(\.tensor.shape))
    var normalDraws: [Float] = []
    for (name, tensor) in fresh.namedParameters {
      let values = tensor.scalars
      if name.hasPrefix("patch_embed.proj") {
        let bound = 1 / Float(48).squareRoot()
        #expect(values.allSatisfy { abs($0) <= bound } && values.contains { abs($0) > bound / 2 }, "\(name): not U(±1/√48)")
      } else if name.contains("norm") {
        #expect(values.allSatisfy { $0 == (name.hasSuffix("weight") ? 1 : 0) }, "\(name): not an identity LayerNorm")
      } else if name.hasSuffix("bias") {
        #expect(values.allSatisfy { $0 == 0 }, "\(name): bias not zero")
      } else {
        #expect(values.allSatisfy { abs($0) < 0.12 }, "\(name): a draw beyond 6σ")
        normalDraws += values
      }
    }
    let mean = normalDraws.reduce(0) { $0 + Double($1) } / Double(normalDraws.count)
    let std = (normalDraws.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(normalDraws.count)).squareRoot()
    // Over ~8,500 draws the sample std of N(0, 0.02²) lies within 2% of 0.02 (its standard
    // error is 0.75%), the mean within 5e-4 (2.4 standard errors).
    #expect(normalDraws.count > 8_000 && abs(mean) < 5e-4 && abs(std - 0.02) < 0.02 * 0.02, "mean \(mean), std \(std)")
  }
}
