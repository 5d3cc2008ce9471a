import Foundation
import Testing
@testable import VisionAttention

/// `vit-attend --help` (an overview, the usage, the options by section) and the topic pages
/// of `vit-attend help TOPIC`, run as a user runs them.
@Suite struct HelpTests {
  /// Every option of `vit-attend` by the section `--help` lists it in: the command's
  /// contract, written out here so that an option that disappears or moves is noticed.
  static let sections: [(title: String, options: [String])] = [
    ("INPUT", ["--resize", "--no-exif", "--accept-partial"]),
    ("MODEL", ["--weights", "--cnn-weights", "--head-count", "--mean", "--std", "--threads", "--batch-size", "--full-attention-limit"]),
    ("MAP", ["--map", "--score", "--layer", "--head", "--fuse", "--query", "--keep", "--discard-ratio", "--cnn", "--class", "--target-embedding", "--foreground", "--pca-from", "--norm-factor", "--faithfulness", "--maps"]),
    ("APPEARANCE", ["--colormap", "--alpha", "--upsample"]),
    ("OUTPUT", ["--out", "--out-dir", "--html", "--format", "--dump", "--dump-attention", "--dump-dir", "--style", "--per-head"]),
    ("FOLDER RUNS", ["--keep-going", "--skip-existing", "--shard", "--merge"]),
  ]

  /// The topics the issue asks for, and the others the old help's prose needed.
  static let topics = ["model", "maps", "resizing", "dump", "page", "high-resolution", "gradients", "faithfulness", "folders"]

  /// Runs of spaces and line breaks as one space: help text wraps at the terminal's width.
  static func flattened(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
  }

  @Test func helpShowsUsageFirstThenEveryOptionInItsSection() throws {
    let result = try CommandRunner.run(["--help"])
    #expect(result.status == 0, "\(result.error)")
    let lines = result.output.components(separatedBy: "\n")
    let usage = try #require(lines.firstIndex { $0.hasPrefix("USAGE:") })
    #expect(usage < 15, "USAGE on line \(usage + 1), after the overview")
    // The sections, in the order of the flow, each followed by its own options only.
    var starts: [Int] = []
    for section in Self.sections {
      let start = try #require(lines.firstIndex(of: "\(section.title):"), "missing section \(section.title)")
      starts.append(start)
    }
    #expect(starts == starts.sorted(), "sections out of order: \(starts)")
    for (i, section) in Self.sections.enumerated() {
      let end = lines[starts[i]...].dropFirst().firstIndex { $0.hasSuffix(":") && !$0.hasPrefix(" ") } ?? lines.count
      let body = lines[(starts[i] + 1)..<end]
      // An option's line starts with its names, two columns in: `  -o, --out <png>` or
      // `  --keep-going`; a wrapped abstract is indented further.
      let listed = body.compactMap { line -> String? in
        guard line.hasPrefix("  -") else { return nil }
        return line.split(separator: " ").first { $0.hasPrefix("--") }.map(String.init)
      }
      #expect(listed == section.options, "section \(section.title)")
    }
    // The long explanations are topic pages now: no dump contract or page-size formula here.
    for essay in ["attn_rows.tokens", "4/3 ·", "online softmax"] {
      #expect(!result.output.contains(essay), "--help still explains \(essay)")
    }
    let flat = Self.flattened(result.output)
    for topic in Self.topics { #expect(flat.contains(topic), "--help does not name the topic \(topic)") }
  }

  @Test func everyChoiceListsItsValuesAndDefault() throws {
    let flat = Self.flattened(try CommandRunner.run(["--help"]).output)
    func values<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> String where T.RawValue == String {
      type.allCases.map(\.rawValue).joined(separator: ", ")
    }
    let expected = [
      "--map <map> What to draw; the default figure when left out. (values: \(values(MapKind.self)))",
      "--fuse <fuse> Combine heads: mean, max or min. (values: \(values(HeadFusion.self)))",
      "(values: \(values(Colormap.self)); default: inferno)",
      "(values: \(values(Upsampling.self)); default: bicubic)",
      "(values: \(values(ResizePolicy.self)); default: fit)",
      "(values: \(values(OutputFormat.self)); default: png)",
      "(values: \(values(FigureStyle.self)); default: full)",
      "(values: \(values(DumpAttention.self)))",
      "--alpha <alpha> Heat-map opacity, 0 to 1. (default: 0.6)",
      "(default: 268435456)",
    ]
    for line in expected { #expect(flat.contains(line), "missing: \(line)") }
  }

  @Test func helpListsTheTopics() throws {
    let result = try CommandRunner.run(["help"])
    #expect(result.status == 0, "\(result.error)")
    let names = result.output.components(separatedBy: "\n").compactMap { $0.hasPrefix("  ") ? $0.split(separator: " ").first.map(String.init) : nil }
    #expect(names == Self.topics)
    #expect(result.output.split(separator: "\n").allSatisfy { $0.count <= 90 })
    #expect(try CommandRunner.run(["help", "--help"]).output == result.output)
  }

  /// Each page with a line only it has (a contract it states), so a page printed for the
  /// wrong topic, or one that lost its subject, fails.
  @Test(arguments: [
    ("model", "width / 64 --head-count N"),
    ("maps", "gradrollout gradient-weighted rollout for --class (Chefer et al. 2021)"),
    ("resizing", "a fraction f picks pixel floor(f * size)"),
    ("dump", "attn_rows.tokens [R], int64 the rows' tokens: 0 for the class token"),
    ("page", "4/3 · (L·H·T·(T+4) + 3·R·(T+4) + N·(C+4)) bytes"),
    ("high-resolution", "attention runs tiled with an online softmax"),
    ("gradients", "--target-embedding FILE.safetensors: one tensor, [D] or [1, D]"),
    ("faithfulness", "maps -> {name: {deletion_auc, insertion_auc}}"),
    ("folders", "writes index.K-of-N.jsonl"),
  ])
  func eachTopicPrintsItsOwnPage(topic: String, line: String) throws {
    let result = try CommandRunner.run(["help", topic])
    #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
    #expect(Self.flattened(result.output).contains(line))
    // Written for a terminal: no line wider than 90 columns.
    let wide = result.output.split(separator: "\n").filter { $0.count > 90 }
    #expect(wide.isEmpty, "\(wide)")
    for other in Self.topics where other != topic {
      let page = try CommandRunner.run(["help", other]).output
      #expect(!Self.flattened(page).contains(line), "help \(other) has \(topic)'s line")
    }
  }

  /// `help model` names the Swin and DETR families and every map each one draws, as their
  /// pipelines accept them, so a map added to a family without a word here fails.
  @Test func theModelPageNamesEachFamilysMaps() throws {
    let page = Self.flattened(try CommandRunner.run(["help", "model"]).output)
    for family in ["Swin", "DETR", "DetrForObjectDetection", "Figure 6", "Figure 3"] {
      #expect(page.contains(family), "help model does not name \(family)")
    }
    for map in SwinPipeline.maps.compactMap(\.self) + DETRPipeline.maps.compactMap(\.self) {
      #expect(page.contains(map.rawValue), "help model does not name --map \(map.rawValue)")
    }
  }

  @Test func theMapsPageNamesEveryMap() throws {
    let page = try CommandRunner.run(["help", "maps"]).output
    let rows = Set(page.components(separatedBy: "\n").compactMap { $0.hasPrefix("  ") ? $0.split(separator: " ").first.map(String.init) : nil })
    for kind in MapKind.allCases { #expect(rows.contains(kind.rawValue), "help maps lacks \(kind.rawValue)") }
  }

  @Test func theFaithfulnessPageGivesTheDefaultMaps() throws {
    let page = Self.flattened(try CommandRunner.run(["help", "faithfulness"]).output)
    #expect(page.contains("default \(FaithfulnessMap.defaults.map(\.rawValue).joined(separator: ","));"))
  }

  @Test(arguments: [["help", "nosuch"], ["help", "dump", "page"], ["help", "cat.png", "-o", "x.png"]])
  func anUnknownTopicFailsWithTheList(arguments: [String]) throws {
    let result = try CommandRunner.run(arguments)
    #expect(result.status == 64)
    #expect(result.output.isEmpty)
    let asked = arguments.dropFirst().joined(separator: " ")
    #expect(result.error.hasPrefix("Error: no help topic '\(asked)'."), "\(result.error)")
    for topic in Self.topics { #expect(result.error.contains("\n  \(topic) "), "the error does not list \(topic)") }
    #expect(result.error.contains("./help"))
  }

  /// `help` is the manual only as the exact first argument: a file named help runs as
  /// `./help`, or anywhere later on the line.
  @Test func anInputFileNamedHelpStillRuns() throws {
    let scratch = ScratchFolder()
    try FileManager.default.copyItem(atPath: CommandRunner.repositoryFile("images/cat.png"), toPath: scratch.file("help"))
    let dotted = try CommandRunner.run(["./help", "-m", "query", "--style", "bare", "-o", "a.png"], in: scratch.path)
    #expect(dotted.status == 0, "\(dotted.error)")
    #expect(try pngText(scratch.file("a.png"))["input"] == "./help")
    let later = try CommandRunner.run(["-m", "query", "--style", "bare", "-o", "b.png", "help"], in: scratch.path)
    #expect(later.status == 0, "\(later.error)")
    #expect(try pngText(scratch.file("b.png"))["input"] == "help")
    #expect(scratch.contents == ["a.png", "b.png", "help"])
  }
}

/// The pages that state a file format, against the files the command writes: every tensor
/// and metadata key of real dumps (layer numbers read as `{l}`), every key of a folder run's
/// index and of a faithfulness report is named on its page.
@Suite struct TopicPageContractTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let classifier = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_classifier")

  /// The words of a page: what lies between spaces, line breaks and the punctuation that
  /// separates names in it (`{name: {deletion_auc, insertion_auc}}`), less a sentence's
  /// full stop (names hold dots: `rf.size`). A layer number, `attn.{l}`, is the word `attn.<l>`.
  static func words(ofTopic topic: String) throws -> Set<String> {
    let page = try CommandRunner.run(["help", topic]).output.replacingOccurrences(of: "{l}", with: "<l>")
    let words = page.split(whereSeparator: { " \n,()[]{}/;:".contains($0) })
    return Set(words.map { String($0.hasSuffix(".") ? $0.dropLast() : $0) })
  }

  /// The contract keys of the metadata (the figure's parameters are there too, not listed).
  static let metadataKeys = ["attention-dump", "attention-values", "full-attention-limit", "patch_size", "grid_width", "grid_height", "prefix_tokens", "class_token", "scale", "crop_x", "crop_y"]

  @Test(arguments: [
    ["--dump-attention", "rows"], ["-m", "rf"], ["-m", "sagan"], ["-m", "distance"],
    ["-w", "classifier", "-m", "rollout"], ["-w", "classifier", "-m", "gradrollout"],
    ["-w", "classifier", "-m", "gradcam"], ["-w", "classifier", "-m", "attngrad"],
    ["-w", "classifier", "-m", "pca", "--foreground", "-1"], ["-w", "classifier", "-m", "norms"],
  ])
  func everyTensorADumpWritesIsOnTheDumpPage(arguments: [String]) throws {
    let scratch = ScratchFolder()
    let options = arguments.map { $0 == "classifier" ? classifier : $0 }
    let result = try CommandRunner.run([cat, "--dump", scratch.file("d.safetensors")] + options)
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    #expect(dump.shapes.count > 1)
    let words = try Self.words(ofTopic: "dump")
    for name in dump.shapes.keys {
      let general = name.replacing(/^(attn|attn_rows)\.\d+$/) { "\($0.1).<l>" }
      #expect(words.contains(general), "help dump lacks \(name)")
    }
    for key in Self.metadataKeys {
      #expect(dump.metadata[key] != nil, "the dump lacks metadata \(key)")
      #expect(words.contains(key), "help dump lacks metadata \(key)")
    }
  }

  @Test func everyIndexKeyIsOnTheFoldersPage() throws {
    let scratch = ScratchFolder()
    let root = scratch.file("in")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: cat, toPath: "\(root)/cat.png")
    try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(root)/broken.png"))
    // --map distance writes mean_attention_distance, a map of the patches its peak and entropy.
    var keys: Set<String> = []
    for map in ["distance", "cls", "norms"] {
      let result = try CommandRunner.run([root, "--out-dir", scratch.file(map), "-w", classifier, "-m", map, "--keep-going"])
      #expect(result.status == 2, "\(result.error)")
      let lines = try String(contentsOfFile: scratch.file("\(map)/index.jsonl"), encoding: .utf8).split(separator: "\n")
      keys.formUnion(try lines.flatMap { try (JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]).keys })
    }
    #expect(keys.isSuperset(of: ["status", "error", "output", "mean_attention_distance", "peak_patch", "high_norm_tokens"]), "\(keys)")
    let words = try Self.words(ofTopic: "folders")
    for key in keys { #expect(words.contains(key), "help folders lacks \(key)") }
  }

  @Test func everyReportKeyIsOnTheFaithfulnessPage() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "-w", classifier, "--faithfulness", scratch.file("r.json"), "--maps", "cls,random"])
    #expect(result.status == 0, "\(result.error)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("r.json")))) as? [String: Any])
    let maps = try #require(report["maps"] as? [String: [String: Any]])
    let images = try #require(report["images"] as? [[String: Any]])
    let curves = images.flatMap { ($0["maps"] as? [String: [String: Any]] ?? [:]).values }
    let keys = Set(report.keys).union(maps.values.flatMap(\.keys)).union(images.flatMap(\.keys)).union(curves.flatMap(\.keys))
    #expect(keys.isSuperset(of: ["maps", "images", "deletion_auc", "insertion", "class"]), "\(keys)")
    let words = try Self.words(ofTopic: "faithfulness")
    for key in keys { #expect(words.contains(key), "help faithfulness lacks \(key)") }
  }
}
