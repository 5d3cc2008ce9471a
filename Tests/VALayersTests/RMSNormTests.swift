import Foundation
import VATensorCore
import VATestSupport
import Testing
@testable import VALayers

// Reference values in RMSNormReference.swift, written by Scripts/reference/aimv2_fixtures.py
// (torch 2.15, timm 1.0.31). Regenerate: python3 Scripts/reference/aimv2_fixtures.py

/// The RMSNorm kind of `LayerNorm` (timm's `RmsNorm`, AIMv2's every norm), forward and backward.
struct RMSNormTests {
  /// A reference tensor as a leaf.
  func reference(_ name: String, requiresGrad: Bool = false) -> Tensor {
    let entry = rmsNormReference[name]!
    return Tensor(shape: entry.shape, scalars: entry.values, requiresGrad: requiresGrad)
  }

  /// Output, input gradient and weight gradient against timm's RmsNorm under PyTorch autograd.
  /// Float32 on both sides over 8 channels: agreement to a few ulps, so 1e-5 of the largest
  /// value leaves room for a different summation order and nothing for a wrong term.
  @Test func matchesTimmRmsNormAndTorchAutograd() {
    let x = reference("x", requiresGrad: true), weight = reference("weight", requiresGrad: true)
    let layer = LayerNorm(kind: .rms, weight: weight, bias: nil, eps: 1e-5)
    let y = layer(x)
    #expect(maxAbsoluteDifference(y.scalars, reference("y").scalars) <= 1e-5 * reference("y").scalars.map(abs).max()!)
    y.backward(gradient: reference("upstream"))
    for (name, got) in [("dx", x.grad!), ("dweight", weight.grad!)] {
      let expected = reference(name).scalars
      let error = maxAbsoluteDifference(got.scalars, expected) / expected.map(abs).max()!
      #expect(error < 1e-5, "\(name) differs by \(error) of its largest value")
    }
  }

  /// The backward against central finite differences (checkGradients), with and without a
  /// gain, on rows of several widths and a batch axis; tolerance as VATensorCore's
  /// GradientTests (h = 1e-2 in Float32: truncation ≈ 1e-4 relative, 1e-3 leaves headroom).
  @Test(arguments: [[3, 6], [2, 2, 5], [1, 17]])
  func backwardMatchesFiniteDifferences(shape: [Int]) {
    var rng = SplitMix64(seed: 7)
    let x = randomLeaf(shape, using: &rng)
    let weight = Tensor(shape: [shape.last!], scalars: (0..<shape.last!).map { _ in 1 + 0.5 * Float.random(in: -1...1, using: &rng) }, requiresGrad: true)
    let withGain = checkGradients([x, weight], seed: 11) { LayerNorm(kind: .rms, weight: $0[1], bias: nil, eps: 1e-5)($0[0]) }
    #expect(withGain.maxError < 1e-3, "\(withGain.errors)")
    let bare = checkGradients([x], seed: 12) { rmsNorm($0[0], weight: nil, eps: 1e-6) }
    #expect(bare.maxError < 1e-3, "\(bare.errors)")
  }

  /// Every row of the output has unit root mean square before the gain, and RMSNorm lists
  /// only `weight` (timm's RmsNorm has no bias).
  @Test func rowsHaveUnitRootMeanSquare() {
    var rng = SplitMix64(seed: 3)
    let x = Tensor.randomNormal([4, 32], std: 3, using: &rng)
    let layer = LayerNorm(kind: .rms, channels: 32, eps: 0)
    let y = withGradientsDisabled { layer(x) }.scalars
    for r in 0..<4 {
      let meanSquare = y[(r * 32)..<((r + 1) * 32)].map { Double($0 * $0) }.reduce(0, +) / 32
      #expect(abs(meanSquare - 1) < 1e-5)
    }
    #expect(layer.namedParameters.map(\.name) == ["weight"] && layer.bias == nil)
    #expect(LayerNorm(channels: 32, eps: 1e-6).namedParameters.map(\.name) == ["weight", "bias"])
  }
}
