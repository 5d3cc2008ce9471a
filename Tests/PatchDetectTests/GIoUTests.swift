import Foundation
import PatchDetectKit
import Testing

@Suite struct GIoUTests {
  /// torchvision's generalized_box_iou on (cx, cy, w, h) boxes (overlapping, disjoint, nested)
  /// and PyTorch autograd's gradient of Σ weights · GIoU with respect to the predictions.
  @Test func matchesTorchvisionAndAutograd() throws {
    let f = try #require(try DetectTrainFixture.load("detect_giou.json") as? [String: Any])
    let (n, m) = (f["sources"] as! Int, f["targets"] as! Int)
    let (source, target, weights) = (DetectTrainFixture.floats(f["source"]), DetectTrainFixture.floats(f["target"]), DetectTrainFixture.doubles(f["weights"]))
    let (expected, expectedGrad) = (DetectTrainFixture.doubles(f["giou"]), DetectTrainFixture.doubles(f["grad"]))
    var grad = [Double](repeating: 0, count: 4 * n)
    for i in 0..<n {
      for j in 0..<m {
        let (value, g) = GeneralizedIoU.valueAndGradient(CenterBox(source, at: 4 * i), CenterBox(target, at: 4 * j))
        #expect(abs(value - expected[i * m + j]) < 1e-12, "GIoU(\(i), \(j))")
        let w = weights[i * m + j]
        for (c, d) in [g.cx, g.cy, g.w, g.h].enumerated() { grad[4 * i + c] += w * d }
      }
    }
    for (a, b) in zip(grad, expectedGrad) { #expect(abs(a - b) < 1e-10) }
  }

  /// Identical boxes have GIoU 1; far-apart boxes tend to −1.
  @Test func limits() {
    let box = CenterBox(cx: 0.3, cy: 0.4, w: 0.2, h: 0.1)
    #expect(abs(GeneralizedIoU.value(box, box) - 1) < 1e-15)
    let far = GeneralizedIoU.value(CenterBox(cx: 0, cy: 0, w: 0.01, h: 0.01), CenterBox(cx: 100, cy: 100, w: 0.01, h: 0.01))
    #expect(far < -0.999)
  }
}
