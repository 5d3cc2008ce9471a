import Foundation
import VATensorCore
import VATestSupport
import Testing
@testable import VALayers

/// Rotary embedding (EVA-02) takes the same route through the inference path and the
/// composed autograd path, leaves prefix tokens and values alone, and turns pairs as timm's
/// `rot()` does.
struct RotaryEmbeddingTests {
  /// One prefix token, four patches, two heads of width 4.
  func tables(rng: inout SplitMix64) -> RotaryEmbedding {
    let angles = (0..<(4 * 2)).map { _ in Float(rng.nextStandardNormal()) }
    let repeated = angles.flatMap { [$0, $0] }
    return RotaryEmbedding(cos: repeated.map { Foundation.cos($0) }, sin: repeated.map { Foundation.sin($0) }, headDimension: 4, prefixTokens: 1)
  }

  @Test func inferenceAndComposedPathsAgree() {
    var rng = SplitMix64(seed: 11)
    let rotary = tables(rng: &rng)
    let qkv = randomLeaf([2, 5, 24], using: &rng)
    let composed = rotary.apply(toQKV: qkv, heads: 2)
    #expect(composed.isRecorded)
    let fast = withGradientsDisabled { rotary.apply(toQKV: qkv, heads: 2) }
    #expect(maxAbsoluteDifference(fast.scalars, composed.scalars) < 1e-6)
    let x = qkv.scalars, y = fast.scalars
    // Token 0 (prefix) and every v column are unchanged; pairs keep their length.
    #expect(Array(y[0..<24]) == Array(x[0..<24]))
    for token in 1..<5 { #expect(Array(y[(token * 24 + 16)..<(token * 24 + 24)]) == Array(x[(token * 24 + 16)..<(token * 24 + 24)])) }
    let (x0, x1, y0, y1) = (x[24], x[25], y[24], y[25])
    #expect(abs((x0 * x0 + x1 * x1) - (y0 * y0 + y1 * y1)) < 1e-5)
    // rot(x) = (−x₁, x₀): y₀ = x₀ cos − x₁ sin.
    #expect(abs(y0 - (x0 * rotary.cos[0] - x1 * rotary.sin[0])) < 1e-6)
  }

  @Test func gradientMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 12)
    let rotary = tables(rng: &rng)
    let qkv = randomLeaf([1, 5, 24], using: &rng)
    let result = checkGradients([qkv], step: 1e-2) { _ in rotary.apply(toQKV: qkv, heads: 2) }
    #expect(result.maxError < 1e-2, "\(result)")
  }

  /// The rotate-half layout (DINOv3, `rope_rotate_half`): channel `i` turns with `i + d/2`,
  /// on both paths, and its composed path's gradient is the finite differences'.
  @Test func rotateHalfTurnsChannelWithItsHalfPartner() {
    var rng = SplitMix64(seed: 13)
    let angles = (0..<(4 * 2)).map { _ in Float(rng.nextStandardNormal()) }
    // Per patch [a₀, a₁] for the d/2 = 2 partner pairs, laid out [a₀, a₁, a₀, a₁].
    var laidOut: [Float] = []
    for patch in 0..<4 { laidOut += [angles[2 * patch], angles[2 * patch + 1], angles[2 * patch], angles[2 * patch + 1]] }
    let rotary = RotaryEmbedding(
      cos: laidOut.map { Foundation.cos($0) }, sin: laidOut.map { Foundation.sin($0) }, headDimension: 4, prefixTokens: 1, rotateHalf: true)
    let qkv = randomLeaf([2, 5, 24], using: &rng)
    let composed = rotary.apply(toQKV: qkv, heads: 2)
    let fast = withGradientsDisabled { rotary.apply(toQKV: qkv, heads: 2) }
    #expect(maxAbsoluteDifference(fast.scalars, composed.scalars) < 1e-6)
    let x = qkv.scalars, y = fast.scalars
    #expect(Array(y[0..<24]) == Array(x[0..<24]))
    // Token 1, k part, head 1 (columns 8 + 4...8 + 7): channels 0 and 2 pair, then 1 and 3.
    let base = 24 + 8 + 4
    // y_i = x_i cos − x_{i+2} sin and y_{i+2} = x_{i+2} cos + x_i sin, for i = 0, 1.
    for i in 0..<2 {
      let (c, sn) = (rotary.cos[i], rotary.sin[i])  // token 1 is patch 0
      let (first, second) = (x[base + i], x[base + i + 2])
      let expectedFirst: Float = first * c - second * sn
      let expectedSecond: Float = second * c + first * sn
      #expect(abs(y[base + i] - expectedFirst) < 1e-6)
      #expect(abs(y[base + i + 2] - expectedSecond) < 1e-6)
    }
    let gradient = randomLeaf([1, 5, 24], using: &rng)
    let result = checkGradients([gradient], step: 1e-2) { _ in rotary.apply(toQKV: gradient, heads: 2) }
    #expect(result.maxError < 1e-2, "\(result)")
  }
}
