import Foundation
import Testing
import VAModels
@testable import VisionAttention

/// vit-attend on DETR checkpoints, end to end from a PNG file, against transformers'
/// `DetrImageProcessor` and `DetrForObjectDetection` (Scripts/reference/detr_fixtures.py:
/// `cli_image.png`, `cli_preprocessor_config.json`, `cli_reference.safetensors` in each
/// Tests/VAModelsTests/Fixtures/detr_* folder).
@Suite(.serialized) struct DETRFigureTests {
  static let cases = ["detr_timm_v4", "detr_timm_v5", "detr_hf_v4", "detr_hf_v5"]

  /// The fixture's checkpoint with its small preprocessor config, as a folder of links.
  static func checkpoint(_ name: String, in scratch: ScratchFolder) throws -> (folder: String, image: String) {
    let fixture = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(name)")
    let folder = scratch.file("\(name)-checkpoint")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for file in ["config.json", "model.safetensors"] {
      try FileManager.default.createSymbolicLink(atPath: folder + "/" + file, withDestinationPath: fixture + "/" + file)
    }
    try FileManager.default.copyItem(atPath: fixture + "/cli_preprocessor_config.json", toPath: folder + "/preprocessor_config.json")
    return (folder, fixture + "/cli_image.png")
  }

  static func reference(_ name: String) throws -> DumpFile {
    try DumpFile(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(name)/cli_reference.safetensors"))
  }

  /// Largest difference relative to the reference's largest magnitude.
  func peakRelativeError(_ actual: [Float]?, _ expected: [Float]?) -> Float {
    guard let actual, let expected, actual.count == expected.count, let peak = expected.map(abs).max(), peak > 0 else { return .infinity }
    return zip(actual, expected).map { abs($0 - $1) }.max()! / peak
  }

  /// `--dump` holds DetrImageProcessor's input (resized from the file to a size DETR pads,
  /// 94×160 and 138×96) and every output under its contract name, each within 1e-5 of the
  /// reference's largest value, with the feature map's size in the metadata.
  @Test(arguments: cases)
  func dumpMatchesTransformers(name: String) throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint(name, in: scratch)
    let result = try CommandRunner.run([image, "--weights", folder, "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    #expect(!result.error.contains("warning"), "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    let reference = try Self.reference(name)
    var pairs = [("input", "input"), ("detr.logits", "logits"), ("detr.boxes", "boxes")]
    for (key, _) in reference.shapes {
      for kind in ["encoder.", "decoder_self.", "decoder_cross."] where key.hasPrefix(kind) { pairs.append(("detr." + key, key)) }
    }
    #expect(pairs.count == 3 + 6)
    for (dumped, expected) in pairs {
      #expect(dump.shapes[dumped] == reference.shapes[expected], "\(name) \(dumped): \(dump.shapes[dumped] ?? []) against \(reference.shapes[expected] ?? [])")
      let error = peakRelativeError(dump.tensors[dumped], reference.tensors[expected])
      #expect(error < 1e-5, "\(name) \(dumped): differs by \(error) of the largest value")
    }
    #expect(Set(dump.shapes.keys) == Set(pairs.map(\.0)))
    let s = try #require(reference.shapes["encoder.0"]?[1])
    let (h, w) = (Int(dump.metadata["feature_height"] ?? "") ?? 0, Int(dump.metadata["feature_width"] ?? "") ?? 0)
    #expect(h * w == s && h == 3 && w == (name.hasPrefix("detr_timm") ? 5 : 3) || (h == 5 && w == 3), "\(h)x\(w), S = \(s)")
  }

  /// `--resize none` runs the file at its own size (157×109 here), normalised as DETR does.
  @Test func resizeNoneKeepsTheFileSize() throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint("detr_hf_v4", in: scratch)
    let result = try CommandRunner.run([image, "--weights", folder, "--resize", "none", "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    #expect(dump.shapes["input"] == [3, 157, 109])
    #expect(dump.metadata["feature_height"] == "5" && dump.metadata["feature_width"] == "4" && dump.metadata["input_width"] == "109")
    // Every value within what (v − 255·mean) / (255·std) gives for v in 0...255.
    let png = try #require(dump.tensors["input"])
    #expect(png.allSatisfy { $0 >= (0 - 0.485 * 255) / (0.229 * 255) - 1e-4 && $0 <= (255 - 0.406 * 255) / (0.225 * 255) + 1e-4 })
  }

  /// A folder run's `index.jsonl` records the detections above `--score`: transformers'
  /// post-processing with the file's size, those above the threshold, in query order.
  @Test(arguments: ["detr_hf_v4", "detr_timm_v5"])
  func indexRecordsTheDetectionsAboveTheScore(name: String) throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint(name, in: scratch)
    let inputs = scratch.file("inputs")
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: image, toPath: inputs + "/a.png")
    let reference = try Self.reference(name)
    let scores = try #require(reference.tensors["post_scores"])
    // A threshold between two scores well apart, so rounding cannot move a detection across it.
    let sorted = scores.sorted()
    let gap = try #require(zip(sorted, sorted.dropFirst()).filter { $1 - $0 > 2e-4 }.max { ($0.1 - $0.0) < ($1.1 - $1.0) })
    let threshold = Double(gap.0 + gap.1) / 2
    let result = try CommandRunner.run([inputs, "--weights", folder, "--dump-dir", scratch.file("out"), "--score", String(threshold)])
    #expect(result.status == 0, "\(result.error)")
    let line = try String(contentsOfFile: scratch.file("out/index.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(line.count == 1)
    let record = try JSONDecoder().decode(IndexRecord.self, from: Data(try #require(line.first).utf8))
    let detections = try #require(record.detections)
    let (labels, boxes) = (try #require(reference.tensors["post_labels"]), try #require(reference.tensors["post_boxes"]))
    let expected = scores.indices.filter { Double(scores[$0]) > threshold }
    #expect(!expected.isEmpty && expected.count < scores.count, "the threshold \(threshold) filters nothing")
    #expect(detections.count == expected.count)
    let names = ["cat", "dog", "remote", "couch", "N/A"]
    for (d, q) in zip(detections, expected) {
      #expect(d.label == names[Int(labels[q])])
      #expect(abs(d.score - Double(scores[q])) < 1e-5)
      for k in 0..<4 { #expect(abs(d.box[k] - Double(boxes[4 * q + k])) < 2e-3, "\(d.box) against \(boxes[(4 * q)..<(4 * q + 4)])") }
    }
    // Without --score, DETR's 0.7: every score of these random weights is below it.
    let plain = try CommandRunner.run([inputs, "--weights", folder, "--dump-dir", scratch.file("plain")])
    #expect(plain.status == 0, "\(plain.error)")
    let plainRecord = try JSONDecoder().decode(IndexRecord.self, from: Data(try String(contentsOfFile: scratch.file("plain/index.jsonl"), encoding: .utf8).utf8))
    #expect(plainRecord.detections == [] && scores.allSatisfy { $0 < 0.7 })
  }

  /// The default figure (Figure 6) draws one map per detection beside the boxed input, and
  /// `--map encoder` (Figure 3) the map at `--query`, which the PNG's text records.
  @Test func figuresDraw() throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint("detr_hf_v5", in: scratch)
    let model = try DETRModel(path: folder)
    let run = try DETRImageAttention(contentsOfFile: image, model: model)
    let none = run.detectionFigure(threshold: 0.99).image, some = run.detectionFigure(threshold: 0.5).image
    let count = run.detections(threshold: 0.5).count
    #expect(count == 10 && run.detections(threshold: 0.99).isEmpty)
    // File pixels (109×157) through the input's scale (96×138) to 32-pixel cells.
    #expect(run.featureCell(atOriginalX: 0, y: 0) == (0, 0) && run.featureCell(atOriginalX: 40, y: 40) == (1, 1))
    #expect(run.featureCell(atOriginalX: 108, y: 156) == (4, 2) && run.featureCell(atOriginalX: 37, y: 36) == (0, 1))
    // Rows of four panels: the boxed input and three maps, then four maps per row.
    #expect(some.height > 2 * none.height && some.width > 3 * none.width)
    let result = try CommandRunner.run([image, "--weights", folder, "-o", scratch.file("fig.png"), "--score", "0.5"])
    #expect(result.status == 0, "\(result.error)")
    #expect(try pngText(scratch.file("fig.png"))["score"] == "0.5")
    let encoder = try CommandRunner.run([image, "--weights", folder, "-o", scratch.file("enc.png"), "-m", "encoder", "--query", "20,100", "--layer", "0"])
    #expect(encoder.status == 0, "\(encoder.error)")
    let text = try pngText(scratch.file("enc.png"))
    #expect(text["map"] == "encoder" && text["query"] == "20,100" && text["layer"] == "0")
  }

  /// `--html` writes the DETR page: its payload holds each detection above `--score` with its
  /// query's cross-attention and every cell's encoder attention, each within one step of 255
  /// of the dump's head mean, scaled to its peak.
  @Test func pageHoldsTheMaps() throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint("detr_hf_v5", in: scratch)
    let result = try CommandRunner.run([image, "--weights", folder, "--html", scratch.file("p.html"), "--dump", scratch.file("d.safetensors"), "--score", "0.588"])
    #expect(result.status == 0, "\(result.error)")
    let html = try String(contentsOfFile: scratch.file("p.html"), encoding: .utf8)
    let start = try #require(html.range(of: "<script type=\"application/json\" id=\"payload\">")).upperBound
    let end = try #require(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
    let payload = try #require(try JSONSerialization.jsonObject(with: Data(html[start..<end].utf8)) as? [String: Any])
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    let (h, w) = (try #require(payload["feature_height"] as? Int), try #require(payload["feature_width"] as? Int))
    let (s, q) = (h * w, 10)
    /// Row `row` of `[heads, R, S]`, heads averaged, scaled to 0...255 by its peak.
    func expected(_ name: String, row: Int, rows: Int) throws -> [Float] {
      let values = try #require(dump.tensors[name])
      let heads = values.count / (rows * s)
      let mean = (0..<s).map { k in (0..<heads).map { values[($0 * rows + row) * s + k] }.reduce(0, +) / Float(heads) }
      return mean.map { $0 / mean.max()! * 255 }
    }
    func decoded(_ text: Any?) throws -> [UInt8] {
      let string = try #require(text as? String)
      return [UInt8](try #require(Data(base64Encoded: string)))
    }
    let detections = try #require(payload["detections"] as? [[String: Any]])
    #expect(detections.count == 4)
    for d in detections {
      let query = try #require(d["query"] as? Int)
      let want = try expected("detr.decoder_cross.1", row: query, rows: q)
      #expect(zip(try decoded(d["cross"]), want).allSatisfy { abs(Float($0) - $1) <= 0.51 }, "query \(query)")
    }
    let encoder = try decoded(payload["encoder"])
    #expect(encoder.count == s * s)
    for cell in [0, s / 2, s - 1] {
      let want = try expected("detr.encoder.1", row: cell, rows: s)
      #expect(zip(encoder[(cell * s)..<((cell + 1) * s)], want).allSatisfy { abs(Float($0) - $1) <= 0.51 }, "cell \(cell)")
    }
  }

  /// The resize follows `preprocessor_config.json` as `AutoImageProcessor` would: the saved
  /// config is torchvision bilinear, the hub's older form too; `DetrImageProcessorPil` is
  /// Pillow's, `resample: 3` bicubic; what is not reproduced is refused naming the file.
  @Test func resizingFollowsThePreprocessorConfig() throws {
    let scratch = ScratchFolder()
    let (folder, _) = try Self.checkpoint("detr_timm_v4", in: scratch)
    let config = folder + "/preprocessor_config.json"
    #expect(try DETRModel(path: folder).resizing == .standard)
    func with(_ json: String) throws -> DETRResizing {
      try? FileManager.default.removeItem(atPath: config)
      #expect(FileManager.default.createFile(atPath: config, contents: Data(json.utf8)))
      return try DETRModel(path: folder).resizing
    }
    #expect(try with(#"{"feature_extractor_type": "DetrFeatureExtractor", "size": 800, "max_size": 1333}"#) == .standard)
    #expect(try with(#"{"image_processor_type": "DetrImageProcessorPil", "resample": 3}"#) == DETRResizing(backend: .pillow, filter: .bicubic, resizes: true))
    #expect(try with(#"{"do_resize": false}"#).resizes == false)
    for refused in [#"{"resample": 0}"#, #"{"do_normalize": false}"#, #"{"rescale_factor": 0.5}"#, #"{"image_processor_type": "YolosImageProcessor"}"#] {
      #expect(throws: CheckpointError.self, "\(refused)") { try with(refused) }
    }
  }

  /// What DETR's figures cannot show is refused by name, with nothing written; `--map encoder`
  /// and `--score` are refused for ViT and Swin checkpoints.
  @Test func refusals() throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint("detr_timm_v4", in: scratch)
    let refused: [([String], String)] = [
      (["-m", "cls"], "--map cls does not apply to a DETR checkpoint"),
      (["--head", "0"], "--head 0 does not apply to a DETR checkpoint"),
      (["--fuse", "max"], "--fuse max does not apply to a DETR checkpoint"),
      (["--query", "3,4"], "--query does not apply to a DETR checkpoint"),
      (["--score", "1.5"], "--score is a class probability, between 0 and 1, got 1.5"),
      (["--layer", "2"], "layer"),
      (["--cnn-weights", folder], "--cnn-weights"),
      (["--style", "bare"], "--style bare does not apply to a DETR checkpoint"),
    ]
    for (options, message) in refused {
      let result = try CommandRunner.run([image, "--weights", folder, "-o", scratch.file("x.png")] + options)
      #expect(result.status != 0 && result.error.contains(message), "\(options): \(result.error)")
      #expect(!FileManager.default.fileExists(atPath: scratch.file("x.png")))
    }
    let perHead = try CommandRunner.run([image, "--weights", folder, "-o", scratch.file("x.png"), "--per-head"])
    #expect(perHead.status != 0 && perHead.error.contains("--per-head does not apply to a DETR checkpoint"), "\(perHead.error)")
    let vit = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
    let swin = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_swin")
    for (weights, family) in [(vit, "ViT"), (swin, "Swin")] {
      for options in [["-m", "encoder"], ["--score", "0.5"]] {
        let result = try CommandRunner.run([image, "--weights", weights, "-o", scratch.file("x.png")] + options)
        #expect(result.status != 0 && result.error.contains("\(options[0] == "-m" ? "--map encoder" : "--score") does not apply to a \(family) checkpoint"), "\(family) \(options): \(result.error)")
      }
    }
  }

  /// An image whose encoder attention (layers · heads · S²) exceeds `--full-attention-limit`
  /// is refused by name before anything is allocated or written, instead of failing to allocate.
  @Test func encoderAttentionAboveTheLimitIsRefused() throws {
    let scratch = ScratchFolder()
    let (folder, image) = try Self.checkpoint("detr_hf_v5", in: scratch)
    let result = try CommandRunner.run([image, "-w", folder, "--full-attention-limit", "100", "--out", scratch.file("x.png")])
    #expect(result.status == 1 && result.error.contains("DETR's encoder attention needs every layer's full attention matrix"), "\(result.error)")
    #expect(!FileManager.default.fileExists(atPath: scratch.file("x.png")))
    let within = try CommandRunner.run([image, "-w", folder, "--out", scratch.file("y.png")])
    #expect(within.status == 0, "\(within.error)")
  }
}
