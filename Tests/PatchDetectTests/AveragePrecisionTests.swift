import Foundation
import PatchDetectKit
import Testing

/// AP against pycocotools. Written by Scripts/reference/coco_ap_fixtures.py (pycocotools 2.0).
/// Regenerate: pip install pycocotools; python3 Scripts/reference/coco_ap_fixtures.py
@Suite struct AveragePrecisionTests {
  static func fixture(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + relative).path
  }

  struct Expected: Decodable {
    struct PerClass: Decodable {
      var ap: Double
      var ap50: Double
      // swift-format-ignore: AlwaysUseLowerCamelCase
      var ap_by_iou: [Double]
      // swift-format-ignore: AlwaysUseLowerCamelCase
      var recall_by_iou: [Double]
    }
    var ap: Double, ap50: Double, ap75: Double, ar100: Double
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var per_class: [String: PerClass]
  }

  /// Summaries, per-class AP at each threshold and recall, within 1e-6 (the sums run in a
  /// different order from numpy's pairwise mean: differences are ~1e-16).
  @Test(arguments: ["a", "b"])
  func matchesPycocotools(_ name: String) throws {
    let folder = Self.fixture("coco_ap_\(name)")
    let annotations = try COCOAnnotations(contentsOf: folder + "/annotations.json")
    let predictions = try COCOResults.read(folder + "/detections.json", categories: annotations.categories)
    let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
    let result = AveragePrecision.evaluate(
      groundTruth: AveragePrecision.GroundTruth.all(in: annotations), predictions: predictions, imageIDs: annotations.images.map(\.id), classes: annotations.categories.count)
    let tolerance = 1e-6
    #expect(abs(try #require(result.ap) - expected.ap) < tolerance)
    #expect(abs(try #require(result.ap50) - expected.ap50) < tolerance)
    #expect(abs(try #require(result.ap75) - expected.ap75) < tolerance)
    #expect(abs(try #require(result.ar100) - expected.ar100) < tolerance)
    for (k, category) in annotations.categories.enumerated() {
      let reference = try #require(expected.per_class[category.name])
      #expect(abs((result.ap(ofClass: k) ?? -1) - reference.ap) < tolerance, "\(category.name)")
      #expect(abs((result.ap50(ofClass: k) ?? -1) - reference.ap50) < tolerance, "\(category.name)")
      for t in 0..<10 {
        #expect(abs((result.ap(ofClass: k, threshold: t) ?? -1) - reference.ap_by_iou[t]) < tolerance, "\(category.name) @\(t)")
        #expect(abs(result.recall[t][k] - reference.recall_by_iou[t]) < tolerance, "\(category.name) recall @\(t)")
      }
    }
    // The fixture's corners are there: a class without ground truth, and more than 100
    // detections of one class on one image.
    #expect(expected.per_class["unseen"]?.ap == -1 && result.ap(ofClass: 4) == nil)
    #expect(Dictionary(grouping: predictions) { "\($0.imageID) \($0.label)" }.values.contains { $0.count > AveragePrecision.maxDetections })
  }

  /// Hand-made cases: a perfect detection is AP 1; one on a crowd region is ignored, not a false positive.
  @Test func handMadeCases() {
    let box = COCOBox(x: 10, y: 10, width: 20, height: 20)
    let truth = [AveragePrecision.GroundTruth(imageID: 1, label: 0, bbox: box)]
    let perfect = AveragePrecision.evaluate(groundTruth: truth, predictions: [.init(imageID: 1, label: 0, bbox: box, score: 0.9)], imageIDs: [1], classes: 1)
    // 1 / (1 + ε): pycocotools adds np.spacing(1) to every precision's denominator.
    #expect(abs((perfect.ap ?? 0) - 1) < 1e-12 && abs((perfect.ap50 ?? 0) - 1) < 1e-12)
    let crowd = AveragePrecision.GroundTruth(imageID: 2, label: 0, bbox: COCOBox(x: 0, y: 0, width: 50, height: 50), isCrowd: true)
    let onCrowd = AveragePrecision.Prediction(imageID: 2, label: 0, bbox: COCOBox(x: 5, y: 5, width: 5, height: 5), score: 0.95)
    let withCrowd = AveragePrecision.evaluate(
      groundTruth: truth + [crowd], predictions: [.init(imageID: 1, label: 0, bbox: box, score: 0.9), onCrowd], imageIDs: [1, 2], classes: 1)
    #expect(abs((withCrowd.ap ?? 0) - 1) < 1e-12)
    #expect(AveragePrecision.evaluate(groundTruth: [], predictions: [], imageIDs: [1], classes: 2).ap == nil)
    #expect(AveragePrecision.iouThresholds[5] == 0.75 && AveragePrecision.recallThresholds.count == 101)
  }
}
