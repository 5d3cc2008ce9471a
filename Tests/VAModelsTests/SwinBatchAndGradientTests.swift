import Foundation
import Testing
import VASafetensors
import VATensorCore
@testable import VAModels

/// Swin beyond one image at a time: batches, and gradients. The forward is built from
/// differentiable ops (gathers for the shift, padding and merging; matmuls; softmax), so
/// gradients reach the input: what Grad-CAM and gradient attribution through Swin will read.
struct SwinBatchAndGradientTests {
  /// The top logit's input gradient `g` against central differences along `g` itself: the
  /// directional derivative `(f(x + hĝ) − f(x − hĝ)) / 2h` equals `‖g‖` within 1e-3 relative
  /// (float32 forward passes, step 1e-2 along the unit direction; measured 5e-5 to 3.4e-4).
  @Test(arguments: SwinTests.fixtures)
  func inputGradientMatchesCentralDifferences(name: String) throws {
    let model = try SwinTransformer.load(from: fixturePath(name))
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference2.safetensors"))
    let shape = try #require(reference.info("input")).shape
    let values = try reference.floats("input")
    let x = Tensor(shape: shape, scalars: values, requiresGrad: true)
    let logits = try #require(try model(x).logits)
    let top = logits.scalars.indices.max { logits.scalars[$0] < logits.scalars[$1] }!
    logits.sliced(axis: 0, range: top..<(top + 1)).sum().backward()
    let g = try #require(x.grad).scalars
    let squaredNorm = g.reduce(0) { $0 + Double($1) * Double($1) }
    #expect(squaredNorm > 0 && squaredNorm.isFinite)
    let h = 1e-2 / squaredNorm.squareRoot()
    func f(_ s: Double) throws -> Double {
      let shifted = zip(values, g).map { $0 + Float(s * h) * $1 }
      return Double(try withGradientsDisabled { try model(Tensor(shape: shape, scalars: shifted)) }.logits!.scalars[top])
    }
    let numeric = (try f(1) - f(-1)) / (2 * h)
    #expect(abs(numeric - squaredNorm) / squaredNorm < 1e-3, "\(name): central differences \(numeric), autograd \(squaredNorm)")
  }

  /// A batch runs each image as alone: two images (the reference and a scaled copy) through
  /// `callAsFunction(batch:)` give each one's logits and attention within 1e-6 of single runs.
  @Test(arguments: SwinTests.fixtures)
  func batchMatchesSingleImages(name: String) throws {
    let model = try SwinTransformer.load(from: fixturePath(name))
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference2.safetensors"))
    let shape = try #require(reference.info("input")).shape
    let first = Tensor(shape: shape, scalars: try reference.floats("input"))
    let second = first * 0.5
    let batch = try withGradientsDisabled { try model(batch: concat([first.unsqueezed(0), second.unsqueezed(0)], axis: 0)) }
    for (i, image) in [first, second].enumerated() {
      let single = try withGradientsDisabled { try model(image) }
      let logits = try #require(batch.logits).sliced(axis: 0, range: i..<(i + 1)).squeezed(0)
      #expect(peakRelativeError(logits.scalars, try #require(single.logits).scalars) < 1e-6, "\(name) image \(i): logits")
      for (l, weights) in batch.attention.enumerated() {
        let mine = weights.sliced(axis: 0, range: i..<(i + 1)).squeezed(0)
        #expect(mine.shape == single.attention[l].shape)
        #expect(peakRelativeError(mine.scalars, single.attention[l].scalars) < 1e-6, "\(name) image \(i): attn.\(l)")
      }
    }
  }
}
