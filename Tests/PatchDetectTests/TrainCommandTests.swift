import Foundation
import PatchDetectKit
import Testing
import VAImageIO
import VASafetensors
import VATestSupport

/// `patch-detect --data DIR --run-dir RUN` end to end on exported scenes, some widened to
/// non-square: RUN/metrics.json must hold what `patch-detect evaluate` computes later from
/// RUN/model on the validation folder, and RUN/model must be what `vit-attend --weights` reads.
@Suite struct TrainCommandTests {
  /// Exported scenes with every other image widened by `extra` dark columns on the right (the
  /// boxes stay where they are), so the folder mixes square and non-square images.
  static func scenes(_ folder: String, count: Int, seed: Int, extra: Int = 16) throws -> String {
    let run = try PatchDetectRunner.run(["--export-scenes", folder, "--count", String(count), "--image-size", "64", "--seed", String(seed)])
    try #require(run.status == 0, "\(run.error)")
    let file = folder + "/annotations.json"
    var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
    var images = try #require(json["images"] as? [[String: Any]])
    for i in stride(from: 0, to: images.count, by: 2) {
      let path = folder + "/images/" + (try #require(images[i]["file_name"] as? String))
      let image = try Image(contentsOfFile: path)
      var wide = Image(width: image.width + extra, height: image.height, channels: image.channels, filledWith: 20)
      for y in 0..<image.height {
        for x in 0..<image.width * image.channels { wide.pixels[y * wide.width * image.channels + x] = image.pixels[y * image.width * image.channels + x] }
      }
      try wide.writePNG(to: path)
      images[i]["width"] = wide.width
    }
    json["images"] = images
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
    return folder
  }

  @Test func metricsEqualEvaluateAndTheModelLoadsInVitAttend() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let (train, validation, run) = (try Self.scenes(root + "/train", count: 12, seed: 0), try Self.scenes(root + "/val", count: 6, seed: 1), root + "/run")
    let trained = try PatchDetectRunner.run([
      "--data", train, "--val-data", validation, "--run-dir", run, "--epochs", "1", "--batch-size", "4", "--image-size", "64",
    ])
    try #require(trained.status == 0, "\(trained.error)")
    for file in ["model/config.json", "model/preprocessor_config.json", "model/model.safetensors", "history.json", "metrics.json", "curves.png", "validation.png"] {
      #expect(FileManager.default.fileExists(atPath: run + "/" + file), "\(file)")
    }
    let evaluated = try PatchDetectRunner.run(["evaluate", "--weights", run + "/model", "--data", validation, "--output", root + "/eval"])
    try #require(evaluated.status == 0, "\(evaluated.error)")
    let mine = try Self.json(run + "/metrics.json"), theirs = try Self.json(root + "/eval/metrics.json")
    // The same detector on the same images: the same numbers, not merely close ones.
    for key in ["ap", "ap50", "ap75", "ar100", "images"] {
      #expect((mine[key] as? NSNumber) == (theirs[key] as? NSNumber), "\(key): \(mine[key] ?? "none") vs \(theirs[key] ?? "none")")
    }
    let perClass = try #require(mine["per_class"] as? [String: Any])
    #expect(perClass.count == 6)
    #expect(NSDictionary(dictionary: perClass).isEqual(to: try #require(theirs["per_class"] as? [String: Any])))
    let curves = try #require(mine["curves"] as? [String: [Double]])
    #expect(Set(curves.keys).isSuperset(of: ["loss", "classification", "box_l1", "giou"]))
    #expect((mine["curve_steps"] as? [Int])?.count == curves["loss"]?.count)
  }

  /// The trainer's `detect` and `vit-attend --weights RUN/model --dump` on a non-square image:
  /// the same boxes, so training, the saved preprocessor_config.json and vit-attend resize alike.
  @Test func vitAttendDumpHasTheTrainersBoxes() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let data = try COCODataset(path: try Self.scenes(root + "/scenes", count: 6, seed: 2))
    var options = DetectionTrainingOptions()
    (options.epochs, options.batchSize, options.imageSize) = (1, 3, 64)
    let result = try DetectionTraining.train(data.images.map(\.sample), validation: [], classNames: data.classNames, options: options)
    try result.saveHuggingFace(to: root + "/model", classNames: data.classNames)
    let image = data.images[0].sample
    #expect(image.image.width == 80 && image.image.height == 64)
    let dumped = try CommandRunner.run([image.path, "--weights", root + "/model", "--dump", root + "/d.safetensors"], executable: "vit-attend", timeout: 600)
    try #require(dumped.status == 0, "\(dumped.error)")
    let boxes = try SafetensorsFile(path: root + "/d.safetensors").floats("detr.boxes")
    let detections = result.detect(image.image, threshold: -.infinity)
    #expect(detections.count == boxes.count / 4)
    let (w, h) = (Float(image.image.width), Float(image.image.height))
    for d in detections {
      let q = try #require(d.query)
      let (cx, cy, bw, bh) = (boxes[4 * q] * w, boxes[4 * q + 1] * h, boxes[4 * q + 2] * w, boxes[4 * q + 3] * h)
      for (a, b) in zip([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], [d.box.minX, d.box.minY, d.box.maxX, d.box.maxY]) {
        #expect(abs(a - b) < 1e-3, "query \(q): \(a) vs \(b)")
      }
    }
  }

  static func json(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
  }

  /// `--synthetic-scenes` goes through the folder path: the generated scenes are written under
  /// RUN as COCO folders, and metrics.json equals `evaluate` on the validation folder.
  @Test func syntheticScenesRunAsAFolder() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let run = root + "/run"
    let trained = try PatchDetectRunner.run([
      "--synthetic-scenes", "10", "--run-dir", run, "--epochs", "1", "--batch-size", "4", "--image-size", "64",
    ])
    try #require(trained.status == 0, "\(trained.error)")
    let validation = run + "/synthetic-validation"
    let evaluated = try PatchDetectRunner.run(["evaluate", "--weights", run + "/model", "--data", validation, "--output", root + "/eval"])
    try #require(evaluated.status == 0, "\(evaluated.error)")
    let mine = try Self.json(run + "/metrics.json"), theirs = try Self.json(root + "/eval/metrics.json")
    #expect((mine["images"] as? Int) == 2)
    for key in ["ap", "ap50", "ap75", "ar100", "images"] {
      #expect((mine[key] as? NSNumber) == (theirs[key] as? NSNumber), "\(key)")
    }
    #expect(FileManager.default.fileExists(atPath: run + "/validation.png"))
    let refused = try PatchDetectRunner.run(["--synthetic-scenes", "10", "--val-data", validation, "--run-dir", root + "/other"])
    #expect(refused.status != 0 && refused.error.contains("--val-data is for --data"))
  }
}
