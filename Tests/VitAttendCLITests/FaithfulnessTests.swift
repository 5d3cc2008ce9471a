import Foundation
import Testing
import VATensorCore
@testable import VisionAttention

/// Deletion and insertion curves against the numpy reference written by
/// Scripts/reference/attribution_fixtures.py (regenerate: python3 Scripts/reference/attribution_fixtures.py),
/// and the command's report on the shipped ShapeWorld model.
@Suite struct FaithfulnessTests {
  let fixture = CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/faithfulness.safetensors")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")

  @Test func curvesMatchTheNumpyReference() throws {
    let reference = try DumpFile(path: fixture)
    let model = try CheckpointModel(path: timm)
    let input = try #require(reference.tensors["input"]), map = try #require(reference.tensors["map"])
    let k = Int(try #require(reference.tensors["class"])[0])
    let blurred = Faithfulness.blurred(input, width: 64, height: 64)
    let blurError = zip(blurred, reference.tensors["blurred"]!).map { abs($0 - $1) }.max() ?? 1
    #expect(blurError < 1e-5)
    let curves = try Faithfulness.curves(
      model: model, input: input, gridWidth: 4, gridHeight: 4, patchSize: 16, maps: [("m", map)], target: .probability(class: k), batchSize: 7)
    let got = try #require(curves["m"])
    let deletion = reference.tensors["deletion"]!.map(Double.init), insertion = reference.tensors["insertion"]!.map(Double.init)
    #expect(got.deletion.count == 5 && deletion.count == 5)
    // Probabilities through two float32 forwards: 1e-5 absolute.
    #expect(zip(got.deletion, deletion).allSatisfy { abs($0 - $1) < 1e-5 }, "\(got.deletion) vs \(deletion)")
    #expect(zip(got.insertion, insertion).allSatisfy { abs($0 - $1) < 1e-5 }, "\(got.insertion) vs \(insertion)")
    let auc = reference.tensors["auc"]!
    #expect(abs(got.deletionAUC - Double(auc[0])) < 1e-5)
    #expect(abs(got.insertionAUC - Double(auc[1])) < 1e-5)
  }

  /// Maps that remove (or insert) the same set of patches at a step share that step's model
  /// pass, and their curves are what each map gives alone.
  @Test func stepsWithTheSamePatchesRunOnce() throws {
    let model = try CheckpointModel(path: timm)
    var rng = SplitMix64(seed: 3)
    let input = (0..<(3 * 64 * 64)).map { _ in Float.random(in: -1...1, using: &rng) }
    let a = (0..<16).map { _ in Float.random(in: 0...1, using: &rng) }
    // b: a's order reversed within each step of 4 patches, so after every step the same set.
    let ranked = Faithfulness.order(a)
    var b = [Float](repeating: 0, count: 16)
    for (rank, patch) in ranked.enumerated() { b[patch] = -Float(rank / 4 * 4 + 3 - rank % 4) }
    #expect(Faithfulness.order(b) != ranked)
    let plan = Faithfulness.plan(input: input, gridWidth: 4, gridHeight: 4, patchSize: 16, maps: [a, b, a.map { -$0 }])
    // The three shared ends, a's 3 inner deletion and 3 insertion steps, none for b, all 6 for -a.
    #expect(plan.inputs.count == 3 + 6 + 0 + 6)
    #expect(plan.slots[1] == plan.slots[0] && Set(plan.slots[2]).isDisjoint(with: plan.slots[0]))
    let together = try Faithfulness.curves(
      model: model, input: input, gridWidth: 4, gridHeight: 4, patchSize: 16,
      maps: [("a", a), ("b", b)], target: .probability(class: 3), batchSize: 5)
    let alone = try Faithfulness.curves(
      model: model, input: input, gridWidth: 4, gridHeight: 4, patchSize: 16,
      maps: [("b", b)], target: .probability(class: 3), batchSize: 5)
    let (shared, own) = (try #require(together["b"]), try #require(alone["b"]))
    #expect(zip(shared.deletion + shared.insertion, own.deletion + own.insertion).allSatisfy { abs($0 - $1) < 1e-6 })
    #expect(shared.deletion == together["a"]!.deletion && shared.insertion == together["a"]!.insertion)
  }

  @Test func areaIsTheTrapezoidRule() {
    #expect(FaithfulnessCurves.area([1, 1, 1]) == 1)
    #expect(abs(FaithfulnessCurves.area([0, 0.5, 1]) - 0.5) < 1e-12)
    #expect(abs(FaithfulnessCurves.area([1, 0, 0, 0, 0]) - 0.125) < 1e-12)
    #expect(Faithfulness.order([0.1, 0.5, 0.5, 0.2]) == [1, 2, 3, 0])
  }

  /// The shipped ShapeWorld model over its validation samples: the report's keys, and
  /// gradient rollout finds the evidence faster than a random order.
  @Test func shapeWorldReport() throws {
    let scratch = ScratchFolder()
    let images = ["circle", "cross", "ring", "square", "star", "triangle"].map { CommandRunner.repositoryFile("images/shapeworld-\($0).png") }
    let report = scratch.file("report.json")
    let result = try CommandRunner.run(images + ["-w", CommandRunner.repositoryFile("Examples/patch-classify/model"), "--faithfulness", report])
    #expect(result.status == 0, "\(result.error)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    let maps = try #require(json["maps"] as? [String: [String: Double]])
    #expect(Set(maps.keys) == ["cls", "rollout", "gradrollout", "gradcam", "random"])
    let perImage = try Self.checkReport(json)
    #expect(perImage.count == 6)
    // The curves' ends: the probability of the image's class on the image, on zeros and on
    // the blurred copy, as the model computes it directly.
    let model = try CheckpointModel(path: CommandRunner.repositoryFile("Examples/patch-classify/model"))
    for image in perImage {
      let path = try #require(images.first { image.input.map($0.hasSuffix) == true }, "\(image.input ?? "no input")")
      let ends = try Self.directEnds(model: model, image: path, target: .probability(class: try #require(image.targetClass)))
      #expect(abs(image.full - ends.full) < 1e-6 && abs(image.blank - ends.blank) < 1e-6 && abs(image.blurred - ends.blurred) < 1e-6, "\(path)")
    }
    // Inserting gradient rollout's patches into the blurred copy first raises the
    // probability faster than a random order (measured 0.840 against 0.676 here, 0.856
    // against 0.691 over all 2,000 validation images), and deleting them first lowers it
    // faster, by a thinner margin (0.2308 against 0.2345 here, 0.2278 against 0.2330 over 2,000).
    #expect(maps["gradrollout"]!["insertion_auc"]! > maps["random"]!["insertion_auc"]! + 0.1)
    #expect(maps["gradrollout"]!["deletion_auc"]! < maps["random"]!["deletion_auc"]!)
    #expect(FileManager.default.fileExists(atPath: scratch.file("report.png")))
    #expect(result.output.contains("gradrollout"))
  }

  /// Every checkpoint family the loader reads: class token or not, registers, average
  /// pooling, resampled positions, distillation tokens, BEiT's relative positions, EVA-02's
  /// rotary embeddings, CLIP's QuickGELU, SigLIP's attention pool, Hugging Face and the
  /// toolkit's own layouts (conv stem, attention pool): every classifier fixture. The
  /// gradient-rollout figure for class 1 is the dumped relevance read out as the model pools;
  /// the report's AUCs are its curves' areas, and the curves start and end at the softmax of
  /// the dumped logits and the model's probabilities on zeros and on the blurred copy.
  @Test(arguments: [
    "timm_basic", "timm_registers_nonsquare", "timm_nonsquare_resample", "timm_deit_distilled", "timm_beit", "timm_eva02",
    "timm_eva02_packed", "timm_eva02_clip", "timm_clip_quickgelu", "timm_dinov2_swiglu", "timm_siglip", "hf_classifier",
    "hf_deit_distilled", "toolkit_saved", "toolkit_saved_convstem", "toolkit_saved_map",
  ])
  func everyFamilyExplainsAndScoresByValue(family name: String) throws {
    let scratch = ScratchFolder()
    let family = FamilyMapValueTests.Family(name: name)
    let coffee = CommandRunner.repositoryFile("images/coffee.png")
    let (figure, dump) = try FamilyMapValueTests.run(family, ["--style", "bare", "-m", "gradrollout", "--class", "1"], image: coffee, in: scratch)
    let grid = try FamilyMapValueTests.Grid(dump)
    let relevance = try #require(dump.tensors["gradrollout"])
    let map = MapOracle.readoutMap(relevance, readout: try FamilyMapValueTests.readout(family, grid, dump), patches: grid.patches)
    let shown = FigureReader.blocks(figure, gridWidth: grid.columns, gridHeight: grid.rows, block: (grid.patch, grid.patch))
    #expect(FigureReader.worst(shown, MapOracle.normalised(map)) <= FamilyMapValueTests.tolerance, "\(name)")

    let report = try CommandRunner.run([coffee, "-w", family.folder, "--faithfulness", scratch.file("r.json"), "--maps", "gradcam,random"])
    #expect(report.status == 0, "\(report.error)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("r.json")))) as? [String: Any])
    #expect((json["maps"] as? [String: Any])?.keys.sorted() == ["gradcam", "random"])
    let image = try #require(try Self.checkReport(json).first)
    let logits = try #require(dump.tensors["logits"]).map(Double.init)
    let top = logits.indices.max { logits[$0] < logits[$1] }!
    let exponentials = logits.map { exp($0 - logits[top]) }
    let softmax = exponentials.map { $0 / exponentials.reduce(0, +) }
    #expect(image.targetClass == top, "\(name): scored class \(image.targetClass ?? -1), top-1 \(top)")
    #expect(abs(image.full - softmax[top]) < 1e-5, "\(name): curves start at \(image.full), softmax gives \(softmax[top])")
    let ends = try Self.directEnds(model: try CheckpointModel(path: family.folder), image: coffee, target: .probability(class: top))
    #expect(abs(image.blank - ends.blank) < 1e-6 && abs(image.blurred - ends.blurred) < 1e-6, "\(name)")
  }

  /// A model without a classifier (DINO, CLIP and SigLIP image towers) follows the cosine
  /// similarity to a target embedding: the curves' ends are that similarity on the image, on
  /// zeros and on the blurred copy, as the model computes it directly.
  @Test(arguments: ["hf_backbone", "hf_siglip_vision", "open_clip_quickgelu", "hf_clip", "hf_dinov2", "hf_dinov2_registers", "hf_siglip"])
  func embeddingTargetsFollowTheSimilarity(family: String) throws {
    let scratch = ScratchFolder()
    let weights = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(family)")
    let (cat, coffee) = (CommandRunner.repositoryFile("images/cat.png"), CommandRunner.repositoryFile("images/coffee.png"))
    let dump = scratch.file("cat.safetensors")
    #expect(try CommandRunner.run([cat, "-w", weights, "--map", "rollout", "--out", scratch.file("c.png"), "--dump", dump]).status == 0)
    let run = try CommandRunner.run([coffee, "-w", weights, "--faithfulness", scratch.file("r.json"), "--target-embedding", dump, "--maps", "gradrollout,random"])
    #expect(run.status == 0, "\(run.error)")
    #expect(!run.error.contains("warning"), "\(run.error)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("r.json")))) as? [String: Any])
    #expect((json["maps"] as? [String: Any])?.keys.sorted() == ["gradrollout", "random"])
    let image = try #require((json["images"] as? [[String: Any]])?.first)
    #expect(image["class"] == nil && image["probability"] == nil)
    let similarity = try #require(image["similarity"] as? Double)
    let curves = try #require((image["maps"] as? [String: [String: Any]])?["gradrollout"])
    let (deletion, insertion) = (try #require(curves["deletion"] as? [Double]), try #require(curves["insertion"] as? [Double]))

    let model = try CheckpointModel(path: weights)
    let target = try #require(try DumpFile(path: dump).tensors["embedding"])
    let prepared = try PreparedImage(contentsOfFile: coffee, for: model, input: InputSettings())
    let input = model.normalizedInput(prepared.image)
    let (h, w) = (prepared.image.height, prepared.image.width)
    let ends = [input, [Float](repeating: 0, count: input.count), Faithfulness.blurred(input, width: w, height: h)]
    let direct = try model.scores(normalizedBatch: Tensor(shape: [3, 3, h, w], scalars: ends.flatMap { $0 }), following: .similarity(to: target))
    #expect(abs(direct[0] - similarity) < 1e-5 && abs(deletion[0] - direct[0]) < 1e-6 && abs(insertion.last! - direct[0]) < 1e-6)
    #expect(abs(deletion.last! - direct[1]) < 1e-6 && abs(insertion[0] - direct[2]) < 1e-6)
    let points = Faithfulness.steps(gridWidth: w / model.patchSize, gridHeight: h / model.patchSize).points
    #expect(deletion.count == points && insertion.count == points)
  }

  /// A model with an attention-pooling head and no class token scores `cls` with that head's
  /// map (as `--map cls` draws it): the curves of the dumped `attn.pool`, heads averaged.
  @Test func anAttentionPoolStandsInForTheClassToken() throws {
    let scratch = ScratchFolder()
    let weights = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/toolkit_saved_map")
    let coffee = CommandRunner.repositoryFile("images/coffee.png")
    let run = try CommandRunner.run([coffee, "-w", weights, "--faithfulness", scratch.file("r.json")])
    #expect(run.status == 0 && !run.error.contains("skipped"), "\(run.error)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("r.json")))) as? [String: Any])
    #expect((json["maps"] as? [String: Any])?.keys.sorted() == ["cls", "gradcam", "gradrollout", "random", "rollout"])
    let image = try #require((json["images"] as? [[String: Any]])?.first)
    let cls = try #require((image["maps"] as? [String: [String: Any]])?["cls"])

    let dump = scratch.file("d.safetensors")
    #expect(try CommandRunner.run([coffee, "-w", weights, "-m", "cls", "-o", scratch.file("c.png"), "--dump", dump]).status == 0)
    let file = try DumpFile(path: dump)
    let shape = try #require(file.shapes["attn.pool"]), weightsPool = try #require(file.tensors["attn.pool"])
    let (heads, n) = (shape[0], shape[2])
    let map = (0..<n).map { j in (0..<heads).reduce(Float(0)) { $0 + weightsPool[$1 * n + j] } / Float(heads) }
    let model = try CheckpointModel(path: weights)
    let prepared = try PreparedImage(contentsOfFile: coffee, for: model, input: InputSettings())
    let p = model.patchSize, k = try #require(image["class"] as? Int)
    let expected = try #require(
      try Faithfulness.curves(
        model: model, input: model.normalizedInput(prepared.image), gridWidth: prepared.image.width / p, gridHeight: prepared.image.height / p,
        patchSize: p, maps: [("cls", map)], target: .probability(class: k))["cls"])
    let (deletion, insertion) = (try #require(cls["deletion"] as? [Double]), try #require(cls["insertion"] as? [Double]))
    #expect(zip(deletion, expected.deletion).allSatisfy { abs($0 - $1) < 1e-6 } && deletion.count == expected.deletion.count)
    #expect(zip(insertion, expected.insertion).allSatisfy { abs($0 - $1) < 1e-6 } && insertion.count == expected.insertion.count)
  }

  @Test func badRequestsAreRefused() throws {
    let scratch = ScratchFolder()
    let cat = CommandRunner.repositoryFile("images/cat.png")
    let unknown = try CommandRunner.run([cat, "-w", timm, "--faithfulness", scratch.file("r.json"), "--maps", "cls,bogus"])
    #expect(unknown.status == 64)
    #expect(unknown.error.contains("unknown map 'bogus'"))
    let builtIn = try CommandRunner.run([cat, "--faithfulness", scratch.file("r.json")])
    #expect(builtIn.status == 1)
    #expect(builtIn.error.contains("--faithfulness needs gradients of a classifier"))
    let backbone = try CommandRunner.run([cat, "-w", CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_backbone"), "--faithfulness", scratch.file("r.json")])
    #expect(backbone.status == 1)
    #expect(backbone.error.contains("--faithfulness follows a class's probability, or for a model without a classifier the cosine similarity to --target-embedding"))
    let withOut = try CommandRunner.run([cat, "-w", timm, "--faithfulness", scratch.file("r.json"), "--out", scratch.file("o.png")])
    #expect(withOut.status == 64)
    #expect(!FileManager.default.fileExists(atPath: scratch.file("r.json")))
  }
}

extension FaithfulnessTests {
  /// One image's entry of a report: its class and the curves' shared ends (on the image, on
  /// zeros, on the blurred copy).
  struct ImageEnds {
    var input: String?
    var targetClass: Int?
    var full: Double, blank: Double, blurred: Double
  }

  /// The trapezoid rule over equally spaced points on [0, 1] (each step moves one patch row).
  static func trapezoid(_ curve: [Double]) -> Double {
    var area = 0.0
    for i in 1..<curve.count { area += (curve[i - 1] + curve[i]) / 2 }
    return area / Double(curve.count - 1)
  }

  /// Checks a report against itself: each image's AUCs are its curves' areas, the maps' AUCs
  /// the mean over the images, and every map's curves of an image share their ends (deletion
  /// from the image to zeros, insertion from the blurred copy to the image).
  static func checkReport(_ json: [String: Any]) throws -> [ImageEnds] {
    let maps = try #require(json["maps"] as? [String: [String: Double]])
    let images = try #require(json["images"] as? [[String: Any]])
    var sums: [String: (deletion: Double, insertion: Double)] = [:]
    var out: [ImageEnds] = []
    for image in images {
      let curves = try #require(image["maps"] as? [String: [String: Any]])
      #expect(Set(curves.keys) == Set(maps.keys))
      var ends: [[Double]] = []
      for (name, curve) in curves {
        let (deletion, insertion) = (try #require(curve["deletion"] as? [Double]), try #require(curve["insertion"] as? [Double]))
        let (deletionAUC, insertionAUC) = (try #require(curve["deletion_auc"] as? Double), try #require(curve["insertion_auc"] as? Double))
        #expect(deletion.count == insertion.count && deletion.count >= 2)
        #expect(abs(deletionAUC - trapezoid(deletion)) < 1e-9 && abs(insertionAUC - trapezoid(insertion)) < 1e-9, "\(name): AUC is not the curve's area")
        sums[name, default: (0, 0)].deletion += deletionAUC
        sums[name, default: (0, 0)].insertion += insertionAUC
        ends.append([deletion[0], insertion.last!, deletion.last!, insertion[0]])
      }
      #expect(ends.allSatisfy { $0 == ends[0] && $0[0] == $0[1] }, "curves of one image with different ends: \(ends)")
      // The image's probability comes from its own forward (batch of one), the curves' start
      // from a batch of perturbed inputs: float32 round-off apart (3e-7 measured).
      if let probability = image["probability"] as? Double ?? image["similarity"] as? Double {
        #expect(abs(probability - ends[0][0]) < 1e-6)
      }
      out.append(ImageEnds(input: image["input"] as? String, targetClass: image["class"] as? Int, full: ends[0][0], blank: ends[0][2], blurred: ends[0][3]))
    }
    for (name, scores) in maps {
      let sum = try #require(sums[name])
      #expect(abs(scores["deletion_auc"]! - sum.deletion / Double(images.count)) < 1e-9, "\(name): mean deletion AUC")
      #expect(abs(scores["insertion_auc"]! - sum.insertion / Double(images.count)) < 1e-9, "\(name): mean insertion AUC")
    }
    return out
  }

  /// `target` on the image, on zeros and on its blurred copy, straight from the model.
  static func directEnds(model: CheckpointModel, image path: String, target: CurveTarget) throws -> (full: Double, blank: Double, blurred: Double) {
    let prepared = try PreparedImage(contentsOfFile: path, for: model, input: InputSettings())
    let input = model.normalizedInput(prepared.image)
    let (h, w) = (prepared.image.height, prepared.image.width)
    let ends = [input, [Float](repeating: 0, count: input.count), Faithfulness.blurred(input, width: w, height: h)]
    let direct = try model.scores(normalizedBatch: Tensor(shape: [3, 3, h, w], scalars: ends.flatMap { $0 }), following: target)
    return (direct[0], direct[1], direct[2])
  }
}
