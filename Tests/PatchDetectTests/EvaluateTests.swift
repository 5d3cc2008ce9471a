import Foundation
import PatchDetectKit
import Testing
import VAModels

/// `patch-detect evaluate` on the DETR fixture (random weights) against transformers and
/// pycocotools. Written by Scripts/reference/coco_evaluate_fixtures.py (transformers 5.25,
/// pycocotools 2.0). Regenerate: python3 Scripts/reference/coco_evaluate_fixtures.py
@Suite struct EvaluateTests {
  static let fixture = AveragePrecisionTests.fixture("evaluate_detr")

  /// The fixture's weights (Tests/VAModelsTests/Fixtures/detr_hf_v5) with this fixture's
  /// small preprocessing, as a checkpoint folder.
  static func modelFolder() throws -> String {
    let folder = try temporaryFolder()
    let weights = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("VAModelsTests/Fixtures/detr_hf_v5").path
    for name in ["config.json", "model.safetensors"] {
      try FileManager.default.createSymbolicLink(atPath: "\(folder)/\(name)", withDestinationPath: "\(weights)/\(name)")
    }
    try FileManager.default.copyItem(atPath: fixture + "/preprocessor_config.json", toPath: folder + "/preprocessor_config.json")
    return folder
  }

  struct Expected: Decodable {
    var ap: Double, ap50: Double, ap75: Double, ar100: Double
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var per_class: [String: Double]
  }

  static func expected() throws -> Expected {
    try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixture + "/expected.json")))
  }

  /// Every query's class, score and box as transformers gives them (two of the five images
  /// are resized; the largest differences seen are 2.4e-7 in a score and 3.6e-5 px in a box,
  /// float32 sums in another order), and AP as pycocotools computes it from them.
  @Test func detectionsAndAPMatchTransformersAndPycocotools() throws {
    let model = try Self.modelFolder()
    defer { try? FileManager.default.removeItem(atPath: model) }
    let detector = DETRDetector(try DETR.importCheckpoint(from: model))
    let annotations = try COCOAnnotations(contentsOf: Self.fixture + "/data/annotations.json")
    let evaluation = DetectionEvaluation.run(on: annotations) { detector.detect($0.sample.image).detections }
    #expect(evaluation.issues.isEmpty)
    let reference = try COCOResults.read(Self.fixture + "/detections.json", categories: annotations.categories)
    try #require(evaluation.predictions.count == reference.count)
    for (mine, theirs) in zip(evaluation.predictions, reference) {
      #expect(mine.imageID == theirs.imageID && mine.label == theirs.label)
      #expect(abs(mine.score - theirs.score) < 1e-5)
      for (a, b) in zip(mine.bbox.array, theirs.bbox.array) { #expect(abs(a - b) < 1e-3, "\(mine.bbox) vs \(theirs.bbox)") }
    }
    let expected = try Self.expected()
    let result = evaluation.result
    #expect(abs((result.ap ?? -1) - expected.ap) < 1e-6)
    #expect(abs((result.ap50 ?? -1) - expected.ap50) < 1e-6)
    #expect(abs((result.ap75 ?? -1) - expected.ap75) < 1e-6)
    #expect(abs((result.ar100 ?? -1) - expected.ar100) < 1e-6)
    for (k, name) in annotations.classNames.enumerated() {
      #expect(abs((result.ap(ofClass: k) ?? -1) - (expected.per_class[name] ?? .nan)) < 1e-6, "\(name)")
    }
  }

  /// The command prints the numbers and writes metrics.json with the issue's keys and the same values.
  @Test func commandWritesMetrics() throws {
    let model = try Self.modelFolder()
    let output = try temporaryFolder()
    defer { for path in [model, output] { try? FileManager.default.removeItem(atPath: path) } }
    let run = try PatchDetectRunner.run(["evaluate", "--weights", model, "--data", Self.fixture + "/data", "--output", output])
    #expect(run.status == 0, "\(run.error)")
    #expect(run.output.contains("AP50"))
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json"))) as? [String: Any])
    let expected = try Self.expected()
    #expect(abs((json["ap"] as? Double ?? -1) - expected.ap) < 1e-6)
    #expect(abs((json["ap50"] as? Double ?? -1) - expected.ap50) < 1e-6)
    #expect(abs((json["ap75"] as? Double ?? -1) - expected.ap75) < 1e-6)
    let perClass = try #require(json["per_class"] as? [String: Any])
    #expect(Set(perClass.keys) == Set(expected.per_class.keys))
    #expect(json["images"] as? Int == 5)
    #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted() == ["detections.json", "metrics.json"])
  }

  /// Hostile options: one clear error naming what is wrong, a non-zero exit, nothing written.
  @Test(arguments: [
    (["evaluate", "--weights", "/nonexistent/model", "--data", "DATA"], "/nonexistent/model"),
    (["evaluate", "--weights", "MODEL", "--data", "/nonexistent/data"], "/nonexistent/data"),
    (["evaluate", "--weights", "MODEL", "--data", "APDATA"], "id2label"),
    (["evaluate", "--weights", "MODEL"], "--data"),
    (["evaluate", "--weights", "DATA", "--data", "DATA"], "evaluate_detr/data"),
    (["evaluate", "--weights", "MODEL", "--data", "DATA", "--output", "MODEL/config.json"], "exists and is not a folder"),
    (["export-scenes", "OUT/scenes", "--count", "0"], "--count"),
    (["export-scenes", "OUT/scenes", "--image-size", "8"], "--image-size"),
    (["export-scenes", "OUT/scenes", "--seed", "-3"], "--seed"),
    (["export-scenes", "DATA", "--count", "1"], "not empty"),
  ])
  func hostileOptions(arguments: [String], message: String) throws {
    let model = try Self.modelFolder()
    let output = try temporaryFolder()
    defer { for path in [model, output] { try? FileManager.default.removeItem(atPath: path) } }
    let data = Self.fixture + "/data"
    let before = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
    let filled = arguments.map {
      $0.replacingOccurrences(of: "APDATA", with: AveragePrecisionTests.fixture("coco_ap_a")).replacingOccurrences(of: "MODEL", with: model)
        .replacingOccurrences(of: "DATA", with: data).replacingOccurrences(of: "OUT", with: output)
    }
    let run = try PatchDetectRunner.run(filled, in: output)
    #expect(run.status != 0 && !run.signalled)
    #expect(run.error.contains(message), "\(run.error)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: output).isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: data).sorted() == before)
  }
}
