import Foundation
import Testing

/// The examples are real targets; run them as a reader would.
struct ExampleTests {
  @Test func attentionWalkthroughPrintsEveryStep() throws {
    let result = try CommandRunner.run([CommandRunner.repositoryFile("images/cat.png")], executable: "attention-walkthrough")
    #expect(result.status == 0, "\(result.error)")
    let lines = result.output.split(separator: "\n")
    #expect(lines.count == 6)
    #expect(result.output.contains("84 patches of 768 numbers (a 12x7 grid)"))
    #expect(result.output.contains("rows sum to 1.0000...1.0000"))
    #expect(result.output.contains("attention weights [4, 84, 84]"))
    #expect(result.output.contains("(at most 9 per query per head: 3024)"))
    let bad = try CommandRunner.run(["/nonexistent.png"], executable: "attention-walkthrough")
    #expect(bad.status == 1 && bad.error.contains("no such file"))
  }
}

/// `patch-classify` as a user runs it: a tiny run writes the contract's files and keys, a
/// second run into the same folder refuses to overwrite it, bad data gets one clear message,
/// and `vit-attend` loads the checkpoint it wrote.
struct PatchClassifyCommandTests {
  static let tiny = [
    "--train-size", "64", "--val-size", "12", "--batch-size", "32", "--image-size", "32",
    "--width", "32", "--depth", "1", "--head-count", "2", "--epochs", "1",
  ]

  @Test func aTinyRunWritesItsFilesAndRefusesToOverwriteThem() throws {
    let scratch = ScratchFolder()
    let run = scratch.file("run")
    let result = try CommandRunner.run(Self.tiny + ["--run-dir", run], executable: "patch-classify")
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("validation accuracy") && result.output.contains("confusion matrix"))
    for file in [
      "metrics.json", "curves.png", "confusion.png", "attention.png", "checkpoint/model.safetensors",
      "checkpoint/config.json", "checkpoint/trainer_state.safetensors",
    ] {
      #expect(FileManager.default.fileExists(atPath: "\(run)/\(file)"), "missing \(file)")
    }
    let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/metrics.json"))) as! [String: Any]
    for key in ["val_accuracy", "per_class_accuracy", "pointing_game", "images_per_second", "train_seconds"] {
      #expect(metrics[key] != nil, "metrics.json lacks \(key)")
    }
    #expect((metrics["per_class_accuracy"] as? [String: Double])?.count == 6)
    try PatchClassifyCommandTests.checkPointingGame(metrics, validationImages: 12, firstMap: "pool")

    let again = try CommandRunner.run(Self.tiny + ["--run-dir", run], executable: "patch-classify")
    #expect(again.status == 1 && again.error.contains("--resume"), "\(again.error)")
    // Resuming a finished run trains no further and reports again.
    let resumed = try CommandRunner.run(Self.tiny + ["--run-dir", run, "--resume"], executable: "patch-classify")
    #expect(resumed.status == 0 && resumed.output.contains("validation accuracy"), "\(resumed.error)")

    let image = scratch.file("sample.png")
    let export = try CommandRunner.run(
      [
        "--export-shapeworld", scratch.file("export"), "--train-size", "6", "--val-size", "6",
        "--batch-size", "6", "--image-size", "32",
      ], executable: "patch-classify")
    #expect(export.status == 0, "\(export.error)")
    let rings = try FileManager.default.contentsOfDirectory(atPath: scratch.file("export/val/ring"))
    #expect(rings.count == 1)
    try FileManager.default.copyItem(atPath: scratch.file("export/val/ring/\(rings[0])"), toPath: image)
    let attend = try CommandRunner.run([image, "--weights", "\(run)/checkpoint", "--out", scratch.file("ring-attention.png")])
    #expect(attend.status == 0, "\(attend.error)")
    // The default model has a convolutional stem; every map reads it as a patch grid.
    let settings = metrics["settings"] as? [String: String]
    #expect(settings?["stem"] == "conv" && settings?["pool"] == "map" && settings?["flip"] == "true" && settings?["schedule"] == "given", "\(settings ?? [:])")
    // Without a class token, --map cls draws the attention-pooling head's query, and --dump
    // writes that head's weights.
    for map in ["cls", "rollout", "heads", "distance", "query", "gradrollout", "gradcam", "attngrad"] {
      let out = scratch.file("ring-\(map).png")
      let result = try CommandRunner.run([image, "-w", "\(run)/checkpoint", "-m", map, "-o", out])
      #expect(result.status == 0 && FileManager.default.fileExists(atPath: out), "--map \(map): \(result.error)")
    }
    let dump = scratch.file("ring.safetensors")
    #expect(try CommandRunner.run([image, "-w", "\(run)/checkpoint", "-m", "cls", "-o", scratch.file("ring-d.png"), "--dump", dump]).status == 0)
    #expect(try DumpFile(path: dump).shapes["attn.pool"] == [2, 1, 16])
  }

  /// A folder run without --epochs plans its schedule from the folder's size and the budget,
  /// and does not mirror images (digits are not mirror symmetric). The planner is a pure
  /// function of the measured timings (FolderLearningTests gives it injected ones); here the
  /// budget, 6 seconds, is less than the run's fixed reserve (10 s for the final evaluation
  /// and figures), so on any machine, however fast, the budget allows one epoch where the
  /// folder's size asks for 150.
  @Test func aFolderRunPlansItsScheduleWithinTheBudget() throws {
    let scratch = ScratchFolder()
    let run = scratch.file("run")
    let folder = CommandRunner.repositoryFile("Tests/PatchClassifyTests/Fixtures/toy-digits")
    let result = try CommandRunner.run(
      [
        "--data", folder, "--budget", "0.1", "--image-size", "16", "--patch-size", "4", "--width", "32",
        "--depth", "1", "--head-count", "2", "--batch-size", "32", "--run-dir", run,
      ], executable: "patch-classify")
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("schedule: 1 epoch, set by the 0.1-minute budget (the data set's size asks for 150)"), "\(result.output)")
    let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/metrics.json"))) as! [String: Any]
    let settings = metrics["settings"] as? [String: String]
    #expect(settings?["schedule"] == "budget" && settings?["flip"] == "false" && settings?["budget_minutes"] == "0.1", "\(settings ?? [:])")
    #expect(metrics["epochs"] as? Int == 1)
    let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoint/config.json"))) as! [String: Any]
    #expect(config["label_names"] as? [String] == (0..<10).map(String.init))
  }

  /// The pointing game of a run over `validationImages` images: each map's rate counts whole
  /// images, a hit on the object (strict) is also a hit within the tolerance, and
  /// `pointing_game` is the model's first map's rate.
  static func checkPointingGame(_ metrics: [String: Any], validationImages n: Int, firstMap: String) throws {
    let rate = try #require(metrics["pointing_game"] as? Double)
    let byMap = try #require(metrics["pointing_game_by_map"] as? [String: Double])
    let strict = try #require(metrics["pointing_game_strict_by_map"] as? [String: Double])
    #expect(byMap[firstMap] == rate, "pointing_game \(rate), by map \(byMap)")
    #expect(Set(strict.keys) == Set(byMap.keys) && !byMap.isEmpty)
    for (map, hits) in byMap {
      let (tolerant, onObject) = (hits * Double(n), (strict[map] ?? -1) * Double(n))
      #expect(abs(tolerant - tolerant.rounded()) < 1e-9 && abs(onObject - onObject.rounded()) < 1e-9, "\(map): \(hits), \(strict[map] ?? -1) of \(n) images")
      #expect(onObject >= 0 && onObject <= tolerant + 1e-9 && tolerant <= Double(n) + 1e-9, "\(map): \(onObject) strict hits, \(tolerant) within the tolerance")
    }
  }

  @Test func badInputGetsOneClearMessage() throws {
    let scratch = ScratchFolder()
    let missing = try CommandRunner.run(["--data", "/no/such/folder", "--run-dir", scratch.file("run")], executable: "patch-classify")
    #expect(missing.status == 1 && missing.error.contains("/no/such/folder: not a folder"), "\(missing.error)")
    let bad = try CommandRunner.run(["--image-size", "30", "--patch-size", "8"], executable: "patch-classify")
    #expect(bad.status != 0 && bad.error.contains("multiple of --patch-size"), "\(bad.error)")
    let budget = try CommandRunner.run(["--budget", "0"], executable: "patch-classify")
    #expect(budget.status == 64 && budget.error.contains("--budget"), "\(budget.error)")
    let stem = try CommandRunner.run(["--patch-size", "6", "--image-size", "36"], executable: "patch-classify")
    #expect(stem.status == 64 && stem.error.contains("--stem patchify"), "\(stem.error)")
    let unknown = try CommandRunner.run(["--model", "resnet"], executable: "patch-classify")
    #expect(unknown.status != 0 && unknown.error.contains("vit"), "\(unknown.error)")
  }
}
