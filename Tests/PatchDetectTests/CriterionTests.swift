import Foundation
import PatchDetectKit
import Testing
import VATensorCore

@Suite struct CriterionTests {
  /// DETR's SetCriterion (HungarianMatcher, loss_labels with eos_coef 0.1, loss_boxes, aux
  /// losses at every layer), transcribed in Scripts/reference/detect_loss_fixtures.py: each
  /// layer's matches and terms, the weighted total and its gradient with respect to the logits
  /// and boxes, within 1e-5. Two cases: 3 layers × 3 images (one without objects), 2 × 2.
  @Test func matchesPyTorchSetCriterion() throws {
    let cases = try #require(try DetectTrainFixture.load("detect_criterion.json") as? [[String: Any]])
    #expect(cases.count == 2)
    for c in cases {
      let (l, b, q, k) = (c["layers"] as! Int, c["batch"] as! Int, c["queries"] as! Int, (c["classes"] as! Int) + 1)
      let logits = Tensor(shape: [l, b, q, k], scalars: DetectTrainFixture.floats(c["logits"]), requiresGrad: true)
      let boxes = Tensor(shape: [l, b, q, 4], scalars: DetectTrainFixture.floats(c["boxes"]), requiresGrad: true)
      let targets = (c["targets"] as! [[String: Any]]).map { t in
        let flat = DetectTrainFixture.floats(t["boxes"])
        return DETRTarget(labels: DetectTrainFixture.integers(t["labels"]), boxes: stride(from: 0, to: flat.count, by: 4).map { CenterBox(flat, at: $0) })
      }
      let result = SetCriterion(classes: k - 1)(logits: logits, boxes: boxes, targets: targets)
      let layers = c["per_layer"] as! [[String: Any]]
      for (mine, theirs) in zip(result.layers, layers) {
        #expect(abs(mine.classification - (theirs["classification"] as! Double)) < 1e-5)
        #expect(abs(mine.boxL1 - (theirs["box_l1"] as! Double)) < 1e-5)
        #expect(abs(mine.giou - (theirs["giou"] as! Double)) < 1e-5)
        let matches = theirs["matches"] as! [[Any]]
        for (i, pairs) in mine.matches.enumerated() {
          #expect(pairs.map(\.query) == DetectTrainFixture.integers(matches[i][0]) && pairs.map(\.target) == DetectTrainFixture.integers(matches[i][1]), "image \(i)")
        }
      }
      #expect(abs(Double(result.total.item) - (c["total"] as! Double)) < 1e-5)
      result.total.backward()
      let (gl, gb) = (try #require(logits.grad).scalars, try #require(boxes.grad).scalars)
      for (a, e) in zip(gl, DetectTrainFixture.doubles(c["grad_logits"])) { #expect(abs(Double(a) - e) < 1e-5) }
      for (a, e) in zip(gb, DetectTrainFixture.doubles(c["grad_boxes"])) { #expect(abs(Double(a) - e) < 1e-5) }
    }
  }

  /// Query groups: G groups of identical queries cost G times one group, and every target is
  /// matched once per group.
  @Test func groupsAddUp() {
    let single = Tensor(shape: [1, 1, 3, 3], scalars: [0.1, -0.3, 0.5, 1.2, 0.4, -0.7, 0.0, 0.2, 0.9])
    let singleBoxes = Tensor(shape: [1, 1, 3, 4], scalars: [0.3, 0.3, 0.2, 0.2, 0.6, 0.5, 0.3, 0.1, 0.5, 0.5, 0.9, 0.9])
    let target = DETRTarget(labels: [1, 0], boxes: [CenterBox(cx: 0.35, cy: 0.3, w: 0.2, h: 0.25), CenterBox(cx: 0.5, cy: 0.5, w: 0.5, h: 0.4)])
    let one = SetCriterion(classes: 2)(logits: single, boxes: singleBoxes, targets: [target])
    let doubled = SetCriterion(classes: 2, groups: 2)(
      logits: concat([single, single], axis: 2), boxes: concat([singleBoxes, singleBoxes], axis: 2), targets: [target])
    #expect(abs(doubled.total.item - 2 * one.total.item) < 1e-5)
    #expect(doubled.layers[0].matches[0].count == 4)
  }
}
