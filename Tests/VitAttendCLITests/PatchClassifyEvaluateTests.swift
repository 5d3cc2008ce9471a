import Foundation
import Testing
import VAImageIO
import VisionAttention

/// `patch-classify evaluate` and `--masks` as a user runs them: the shipped model scored on
/// committed validation samples against timm's predictions, the folder-mask path against
/// ShapeWorld's own masks, a folder run whose checkpoint names its classes for `vit-attend`,
/// and one clear error (exit 1, or 64 for usage) for each bad input.
struct PatchClassifyEvaluateTests {
  static let fixture = CommandRunner.repositoryFile("Tests/PatchClassifyTests/Fixtures/shapeworld-val")
  static let shipped = CommandRunner.repositoryFile("Examples/patch-classify/model")

  static func json(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
  }

  /// Written by Scripts/reference/patch_classify_fixtures.py (timm 1.0.31): timm's
  /// prediction for every fixture image and their accuracy (0.96: 24 of 25; one sample is
  /// the triangle the shipped model calls a square).
  @Test func evaluateReproducesTimmOnTheShippedModel() throws {
    let scratch = ScratchFolder()
    let out = scratch.file("eval.json")
    let result = try CommandRunner.run(
      [
        "evaluate", "--weights", Self.shipped, "--data", Self.fixture + "/images", "--masks", Self.fixture + "/masks",
        "--split", "all", "--out", out,
      ], executable: "patch-classify")
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("accuracy 96.00% (24 of 25 images") && result.output.contains("pointing game, pool map"), "\(result.output)")
    let reference = try Self.json(Self.fixture + "/timm_predictions.json")
    let timm = try #require(reference["images"] as? [[String: Any]])
    let got = try Self.json(out)
    #expect(got["val_accuracy"] as? Double == reference["accuracy"] as? Double)
    let predictions = try #require(got["predictions"] as? [[String: String]])
    #expect(predictions.map { $0["source"] } == timm.map { $0["source"] as? String })
    #expect(predictions.map { $0["predicted"] } == timm.map { $0["predicted"] as? String })
    for key in ["per_class_accuracy", "confusion_matrix", "pointing_game", "pointing_game_by_map", "pointing_game_strict_by_map", "class_names"] {
      #expect(got[key] != nil, "no \(key)")
    }
    #expect((got["pointing_game"] as? Double).map { $0 > 0.8 } == true)
    #expect((got["confusion_matrix"] as? [[Int]])?.map { $0.reduce(0, +) } == [4, 4, 5, 4, 4, 4])
  }

  /// ShapeWorld exported with --export-masks and scored through --masks gives exactly the
  /// figures of `--data shapeworld` (in-memory images and masks) for the same samples.
  @Test func folderMasksScoreAsShapeWorldsOwn() throws {
    let scratch = ScratchFolder()
    let export = try CommandRunner.run(
      [
        "--export-shapeworld", scratch.file("sw"), "--export-masks", scratch.file("masks"), "--train-size", "6",
        "--val-size", "18", "--batch-size", "6",
      ], executable: "patch-classify")
    #expect(export.status == 0, "\(export.error)")
    let folder = try CommandRunner.run(
      [
        "evaluate", "-w", Self.shipped, "--data", scratch.file("sw/val"), "--masks", scratch.file("masks/val"),
        "--split", "all", "-o", scratch.file("folder.json"),
      ], executable: "patch-classify")
    let memory = try CommandRunner.run(
      ["evaluate", "-w", Self.shipped, "--data", "shapeworld", "--val-size", "18", "-o", scratch.file("memory.json")],
      executable: "patch-classify")
    #expect(folder.status == 0 && memory.status == 0, "\(folder.error) \(memory.error)")
    let a = try Self.json(scratch.file("folder.json")), b = try Self.json(scratch.file("memory.json"))
    for key in ["val_accuracy", "pointing_game"] { #expect(a[key] as? Double == b[key] as? Double, "\(key)") }
    for key in ["pointing_game_by_map", "pointing_game_strict_by_map"] { #expect(a[key] as? [String: Double] == b[key] as? [String: Double], "\(key)") }
    #expect(a["confusion_matrix"] as? [[Int]] == b["confusion_matrix"] as? [[Int]])
    #expect((a["pointing_game_by_map"] as? [String: Double])?.count == 2)
  }

  /// A tiny folder run with --masks: metrics.json has a pointing game, the checkpoint names
  /// the folder's classes (read back by vit-attend's loader), and `evaluate` on the run's own
  /// checkpoint and split reproduces metrics.json.
  @Test func aFolderRunWithMasksNamesItsClassesAndEvaluatesAgain() throws {
    let scratch = ScratchFolder()
    let (data, masks, run) = (scratch.file("sw"), scratch.file("masks"), scratch.file("run"))
    let export = try CommandRunner.run(
      [
        "--export-shapeworld", data, "--export-masks", masks, "--train-size", "48", "--val-size", "12",
        "--batch-size", "6", "--image-size", "32",
      ], executable: "patch-classify")
    #expect(export.status == 0, "\(export.error)")
    // Only the validation images need masks.
    try FileManager.default.removeItem(atPath: masks + "/train")
    let tiny = ["--batch-size", "16", "--image-size", "32", "--width", "32", "--depth", "1", "--head-count", "2", "--epochs", "1"]
    let result = try CommandRunner.run(["--data", data, "--masks", masks, "--run-dir", run] + tiny, executable: "patch-classify")
    #expect(result.status == 0, "\(result.error)")
    let metrics = try Self.json(run + "/metrics.json")
    try PatchClassifyCommandTests.checkPointingGame(metrics, validationImages: 12, firstMap: "pool")
    // attention.png outlines the objects as for ShapeWorld, in RGB.markers[2] (86, 180, 233).
    let figure = try Image(contentsOfFile: run + "/attention.png").rgb()
    let outline = (0..<(figure.width * figure.height)).filter { figure.pixels[$0 * 3] == 86 && figure.pixels[$0 * 3 + 1] == 180 && figure.pixels[$0 * 3 + 2] == 233 }
    #expect(outline.count > 200, "\(outline.count) outline pixels")
    let sorted = ["circle", "cross", "ring", "square", "star", "triangle"]
    let config = try Self.json(run + "/checkpoint/config.json")
    #expect(config["label_names"] as? [String] == sorted)
    #expect(try CheckpointModel(path: run + "/checkpoint").classNames == sorted)
    let attend = try CommandRunner.run([data + "/val/ring/000007.png", "-w", run + "/checkpoint", "-o", scratch.file("ring.png")])
    #expect(attend.status == 0, "\(attend.error)")
    let prediction = try #require(try pngText(scratch.file("ring.png"))["prediction"])
    #expect(sorted.contains { prediction.hasPrefix("predicted: \($0) (class ") }, "\(prediction)")

    let again = try CommandRunner.run(
      ["evaluate", "-w", run + "/checkpoint", "--data", data, "--masks", masks, "-o", scratch.file("e.json")],
      executable: "patch-classify")
    #expect(again.status == 0, "\(again.error)")
    let evaluated = try Self.json(scratch.file("e.json"))
    #expect(evaluated["val_accuracy"] as? Double == metrics["val_accuracy"] as? Double)
    #expect(evaluated["pointing_game_by_map"] as? [String: Double] == metrics["pointing_game_by_map"] as? [String: Double])
    #expect(evaluated["confusion_matrix"] as? [[Int]] == metrics["confusion_matrix"] as? [[Int]])

    // A missing validation mask is one error naming it, for training and for evaluate.
    let missing = masks + "/val/ring/000007.png"  // validation offset 7: (10⁹ + 7) % 6 = 5, a ring
    try FileManager.default.removeItem(atPath: missing)
    let train = try CommandRunner.run(["--data", data, "--masks", masks, "--run-dir", scratch.file("run2")] + tiny, executable: "patch-classify")
    #expect(train.status == 1 && train.error.contains("\(missing): no mask for \(data)/val/ring/000007.png"), "\(train.error)")
    let evaluate = try CommandRunner.run(["evaluate", "-w", run + "/checkpoint", "--data", data, "--masks", masks], executable: "patch-classify")
    #expect(evaluate.status == 1 && evaluate.error.contains(missing), "\(evaluate.error)")
  }

  @Test func badInputGetsOneClearMessage() throws {
    let scratch = ScratchFolder()
    let images = Self.fixture + "/images"
    func evaluate(_ arguments: [String]) throws -> CommandRunner.Result {
      try CommandRunner.run(["evaluate"] + arguments, executable: "patch-classify")
    }
    // Four images per class (the fixture less its fifth triangle): the split training holds
    // out (every fifth) is empty.
    let four = scratch.file("four")
    try FileManager.default.copyItem(atPath: images, toPath: four)
    try FileManager.default.removeItem(atPath: four + "/triangle/015376.png")
    let empty = try evaluate(["-w", Self.shipped, "--data", four])
    #expect(empty.status == 1 && empty.error.contains("the val split holds no image"), "\(empty.error)")
    let noFolder = try evaluate(["-w", scratch.file("none"), "--data", images])
    #expect(noFolder.status == 1 && noFolder.error.contains("no such checkpoint folder"), "\(noFolder.error)")

    let copy = scratch.file("model")
    try FileManager.default.copyItem(atPath: Self.shipped, toPath: copy)
    try Data("{ not json".utf8).write(to: URL(fileURLWithPath: copy + "/config.json"))
    let malformed = try evaluate(["-w", copy, "--data", images])
    #expect(malformed.status == 1 && malformed.error.contains("config.json: not a JSON object"), "\(malformed.error)")

    var config = try Self.json(Self.shipped + "/config.json")
    config["label_names"] = ["disc", "square", "triangle", "star", "cross", "ring"]
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: copy + "/config.json"))
    let renamed = try evaluate(["-w", copy, "--data", images, "--split", "all"])
    #expect(renamed.status == 1 && renamed.error.contains("differ from the data's"), "\(renamed.error)")

    // Without label_names only the count can be checked: two classes for a six-class model.
    config["label_names"] = nil
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: copy + "/config.json"))
    let unnamed = try evaluate(["-w", copy, "--data", images, "--split", "all"])
    #expect(
      unnamed.status == 0 && unnamed.error.contains("warning: config.json has no label_names: output i is taken to be the folder's i-th class"),
      "\(unnamed.error)")
    let two = scratch.file("two")
    try FileManager.default.createDirectory(atPath: two, withIntermediateDirectories: true)
    for name in ["circle", "ring"] { try FileManager.default.copyItem(atPath: "\(images)/\(name)", toPath: "\(two)/\(name)") }
    let count = try evaluate(["-w", copy, "--data", two, "--split", "all"])
    #expect(count.status == 1 && count.error.contains("the checkpoint has 6 classes but the data has 2"), "\(count.error)")

    try FileManager.default.removeItem(atPath: copy + "/model.safetensors")
    let noWeights = try evaluate(["-w", copy, "--data", images])
    #expect(noWeights.status == 1 && noWeights.error.contains("no .safetensors file"), "\(noWeights.error)")

    for usage in [
      ["--data", images], ["-w", Self.shipped, "--data", images, "--split", "some"],
      ["-w", Self.shipped, "--data", "shapeworld", "--masks", images], ["-w", Self.shipped, "--data", images, "--val-size", "5"],
      ["-w", Self.shipped, "--data", images, "--out", scratch.file("e.txt")],
      ["-w", Self.shipped, "--data", images, "--out", Self.shipped + "/config.json"],
      ["-w", Self.shipped + "/../model/", "--data", images, "--out", Self.shipped + "/./scores.json"],
    ] {
      let result = try evaluate(usage)
      #expect(result.status == 64, "\(usage): \(result.status) \(result.error)")
    }
    let trainUsage = try CommandRunner.run(["--masks", images], executable: "patch-classify")
    #expect(trainUsage.status == 64 && trainUsage.error.contains("--masks is for image folders"), "\(trainUsage.error)")
  }

  /// Training stays the bare command: its options in `--help`, next to the subcommands.
  @Test func helpShowsTrainingAndNamesEvaluate() throws {
    let help = try CommandRunner.run(["--help"], executable: "patch-classify")
    #expect(help.status == 0)
    for text in ["--data", "--masks", "--head-count", "--export-masks", "evaluate", "train (default)"] {
      #expect(help.output.contains(text), "--help lacks \(text)")
    }
    let evaluate = try CommandRunner.run(["help", "evaluate"], executable: "patch-classify")
    #expect(evaluate.status == 0 && evaluate.output.contains("--weights") && evaluate.output.contains("--split"))
  }
}
