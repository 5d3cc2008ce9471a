import Foundation
import PatchDetectKit
import Testing
import VAImageIO
import VAModels
import VATensorCore

@Suite struct SmallDETRTests {
  /// The fixture model: 2 classes, stem 8, stages [8, 16] with depths [1, 2] (a projecting and
  /// an identity shortcut), width 16, 2 heads, 1 encoder and 2 decoder layers, 5 queries in 2
  /// groups, its batch norms' running statistics moved by two training passes.
  static func fixtureModel() -> SmallDETR {
    var c = SmallDETRConfiguration(classes: 2)
    (c.stemWidth, c.stageWidths, c.depths, c.width, c.heads, c.feedForward) = (8, [8, 16], [1, 2], 16, 2, 32)
    (c.encoderLayers, c.decoderLayers, c.queries, c.groups) = (1, 2, 5, 2)
    var rng = SplitMix64(seed: 7)
    let model = SmallDETR(c, using: &rng)
    for _ in 0..<2 {
      _ = model.forward(Tensor.randomNormal([2, 3, 64, 64], mean: 0.2, std: 1.3, using: &rng), training: true)
    }
    return model
  }

  static let fixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/detect_small_detr").path
  static let labels = ["disc", "square"]

  /// The export writes, byte for byte, the checkpoint committed under Fixtures/detect_small_detr
  /// (which Scripts/reference/detect_model_fixtures.py runs through transformers).
  /// `DETECT_WRITE_FIXTURES=1` rewrites the committed folder first (then run the script).
  @Test func exportIsTheCommittedCheckpoint() throws {
    let folder = NSTemporaryDirectory() + "small-detr-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.fixtureModel().saveHuggingFace(to: folder, labels: Self.labels, imageSize: 64)
    if ProcessInfo.processInfo.environment["DETECT_WRITE_FIXTURES"] == "1" {
      for name in ["config.json", "preprocessor_config.json", "model.safetensors"] {
        try? FileManager.default.removeItem(atPath: Self.fixtureFolder + "/" + name)
        try FileManager.default.createDirectory(atPath: Self.fixtureFolder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: Self.fixtureFolder + "/" + name)
      }
    }
    for name in ["config.json", "preprocessor_config.json", "model.safetensors"] {
      let written = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
      let committed = try Data(contentsOf: URL(fileURLWithPath: Self.fixtureFolder + "/" + name))
      #expect(written == committed, "\(name)")
    }
    #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + ".\((folder as NSString).lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)"))
  }

  /// VAModels' DETR loader reads the committed export, and on the committed 64×64 image gives
  /// transformers' logits, boxes and post-processed detections (`DetrForObjectDetection` from
  /// that folder, `DetrImageProcessor`, `post_process_object_detection` at threshold 0.3).
  @Test func transformersGivesTheSameBoxes() throws {
    let imported = try DETR.importCheckpoint(from: Self.fixtureFolder)
    #expect(imported.model.configuration.labels == Self.labels)
    #expect(imported.model.queries == 5)
    let image = try Image(contentsOfFile: Self.fixtureFolder + "/image.png")
    let output = withGradientsDisabled { imported.model(detrInput(image, preprocessing: imported.preprocessing)) }
    let reference = try #require(try DetectTrainFixture.load("detect_small_detr/transformers.json") as? [String: Any])
    for (a, e) in zip(output.logits.scalars, DetectTrainFixture.doubles(reference["logits"])) { #expect(abs(Double(a) - e) < 1e-4) }
    for (a, e) in zip(output.boxes.scalars, DetectTrainFixture.doubles(reference["boxes"])) { #expect(abs(Double(a) - e) < 1e-5) }
    #expect(output.logits.count == DetectTrainFixture.doubles(reference["logits"]).count)
    let detections = output.detections(threshold: 0.3, width: image.width, height: image.height)
    let expected = try #require(reference["detections"] as? [[String: Any]])
    #expect(detections.count == expected.count && !expected.isEmpty)
    for (d, e) in zip(detections, expected) {
      #expect(d.label == e["label"] as! Int)
      #expect(abs(Double(d.score) - (e["score"] as! Double)) < 1e-5)
      for (a, b) in zip([d.minX, d.minY, d.maxX, d.maxY], DetectTrainFixture.doubles(e["box"])) { #expect(abs(Double(a) - b) < 1e-3) }
    }
  }

  /// The training forward in evaluation mode, first group only, gives the frozen inference
  /// model's last-layer logits and boxes; with every group, each group's queries are its own.
  @Test func trainingForwardIsTheInferenceModel() {
    let model = Self.fixtureModel()
    var rng = SplitMix64(seed: 11)
    let image = Tensor.randomNormal([3, 64, 64], mean: 0, std: 1, using: &rng)
    let frozen = model.frozen(labels: Self.labels)
    let inference = withGradientsDisabled { frozen(image) }
    let training = withGradientsDisabled { model.forward(image.unsqueezed(0), training: false, groups: 1) }
    #expect(training.logits.shape == [2, 1, 5, 3] && training.boxes.shape == [2, 1, 5, 4])
    let last = (training.logits.sliced(axis: 0, range: 1..<2), training.boxes.sliced(axis: 0, range: 1..<2))
    for (a, b) in zip(last.0.scalars, inference.logits.scalars) { #expect(abs(a - b) < 1e-5) }
    for (a, b) in zip(last.1.scalars, inference.boxes.scalars) { #expect(abs(a - b) < 1e-6) }
    let grouped = withGradientsDisabled { model.forward(image.unsqueezed(0), training: false) }
    #expect(grouped.logits.shape == [2, 1, 10, 3])
    for (a, b) in zip(grouped.logits.sliced(axis: 2, range: 0..<5).scalars, training.logits.scalars) { #expect(abs(a - b) < 1e-5) }
  }
}
