import Foundation
import Testing
import VASafetensors
import VATensorCore
@testable import VisionAttention

/// Class-specific maps against PyTorch autograd on committed timm models.
/// Written by Scripts/reference/attribution_fixtures.py (torch 2.15, timm 1.0.31).
/// Regenerate: python3 Scripts/reference/attribution_fixtures.py
@Suite struct AttributionTests {
  static let cases = ["timm_basic", "timm_registers_nonsquare"]

  /// Largest difference relative to the reference's largest magnitude.
  func errorOfMaximum(_ got: [Float], _ want: [Float]) -> Double {
    precondition(got.count == want.count, "\(got.count) vs \(want.count) values")
    let scale = Double(want.map { abs($0) }.max() ?? 0)
    let worst = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return worst / max(scale, 1e-30)
  }

  @Test(arguments: cases) func mapsMatchPyTorchAutograd(name: String) throws {
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/\(name).safetensors"))
    let model = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/\(name)"))
    let input = try #require(reference.tensors["input"]), shape = try #require(reference.shapes["input"])
    let classes = [0, 1].map { Int(reference.tensors["class.\($0)"]![0]) }
    // The second class is not the top-1, so the maps must differ by class to pass.
    let logits = try #require(reference.tensors["logits"])
    #expect(classes[0] == logits.indices.max { logits[$0] < logits[$1] })
    #expect(classes[1] != classes[0])
    let batch = Tensor(shape: [2] + shape, scalars: input + input)
    let maps = try model.model.attributions(batch: batch, targets: classes.map { .classIndex($0) })
    let top = try model.model.attributions(batch: Tensor(shape: [1] + shape, scalars: input), targets: [.topClass])[0]
    #expect(top.targetClass == classes[0])
    #expect(errorOfMaximum(top.gradRollout, maps[0].gradRollout) < 1e-6)
    for (i, a) in maps.enumerated() {
      #expect(a.targetClass == classes[i])
      #expect(errorOfMaximum(a.logits!, logits) < 1e-5)
      let rollout = try #require(reference.tensors["gradrollout.\(i)"])
      let t = a.tokens
      #expect(reference.shapes["gradrollout.\(i)"] == [t, t])
      #expect(errorOfMaximum(a.gradRollout, rollout) < 1e-5, "\(name) class \(classes[i]) gradrollout")
      // The figure's map: the readout row (class token, or the mean of the patches for an
      // average-pooling head) over the patches, at 1e-5 of its own maximum.
      #expect(errorOfMaximum(a.gradRolloutMap, a.patchMap(of: rollout)) < 1e-5, "\(name) class \(classes[i]) gradrollout map")
      let cam = try #require(reference.tensors["gradcam.\(i)"])
      #expect(reference.shapes["gradcam.\(i)"] == [a.gridHeight, a.gridWidth])
      #expect(errorOfMaximum(a.gradCAM, cam) < 1e-5, "\(name) class \(classes[i]) gradcam")
      let terms = try #require(reference.tensors["attngrad.\(i)"])
      for l in a.attentionGradient.indices {
        let want = Array(terms[(l * t * t)..<((l + 1) * t * t)])
        #expect(errorOfMaximum(a.attentionGradient[l], want) < 1e-5, "\(name) class \(classes[i]) attngrad layer \(l)")
        // One layer's class row alone is small (its gradient passes through every later
        // layer), so float32 round-off of two autograd engines shows at ~1e-5 of its maximum.
        #expect(errorOfMaximum(a.attentionGradientMap(layer: l), a.patchMap(of: want)) < 5e-5)
      }
    }
    // Two classes, two different explanations.
    #expect(errorOfMaximum(maps[0].gradCAM, maps[1].gradCAM) > 1e-2)
  }

  /// Recording the attention inputs and running under autograd leaves the forward as it was.
  @Test func tappedForwardEqualsInference() throws {
    let model = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic"))
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/timm_basic.safetensors"))
    let x = Tensor(shape: [1, 3, 64, 64], scalars: reference.tensors["input"]!)
    let plain = withGradientsDisabled { model.model(batch: x, recordAttention: true) }
    let tapped = model.model(batch: Tensor(shape: x.shape, scalars: x.scalars, requiresGrad: true), recordAttention: true, recordAttentionInputs: true)
    #expect(tapped.attentionInputs.count == model.model.blocks.count)
    #expect(tapped.attention.allSatisfy { $0.requiresGrad })
    #expect(errorOfMaximum(tapped.logits!.scalars, plain.logits!.scalars) < 1e-5)
    for (a, b) in zip(tapped.attention, plain.attention) { #expect(errorOfMaximum(a.scalars, b.scalars) < 1e-5) }
  }

  /// A model without a classifier explains the cosine similarity to a target embedding.
  @Test func embeddingTargetMatchesPyTorchAutograd() throws {
    let reference = try DumpFile(path: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/hf_backbone_embedding.safetensors"))
    let model = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_backbone"))
    let input = try #require(reference.tensors["input"]), shape = try #require(reference.shapes["input"])
    let target = try AttributionTarget.embedding(
      contentsOfFile: CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/target_embedding.safetensors"))
    #expect(target == .embedding(reference.tensors["target"]!))
    let a = try model.model.attributions(batch: Tensor(shape: [1] + shape, scalars: input), targets: [target])[0]
    #expect(a.targetClass == nil && a.probability == nil)
    #expect(abs(Double(a.score - reference.tensors["score"]![0])) < 1e-5)
    #expect(errorOfMaximum(a.embedding, reference.tensors["embedding"]!) < 1e-5)
    #expect(errorOfMaximum(a.gradRollout, reference.tensors["gradrollout"]!) < 1e-5)
    #expect(errorOfMaximum(a.gradRolloutMap, a.patchMap(of: reference.tensors["gradrollout"]!)) < 1e-5)
    #expect(errorOfMaximum(a.gradCAM, reference.tensors["gradcam"]!) < 1e-5)
    let t = a.tokens, terms = reference.tensors["attngrad"]!
    for l in a.attentionGradient.indices {
      #expect(errorOfMaximum(a.attentionGradient[l], Array(terms[(l * t * t)..<((l + 1) * t * t)])) < 1e-5, "layer \(l)")
    }
  }

  @Test func commandExplainsATargetEmbedding() throws {
    let scratch = ScratchFolder()
    let cat = CommandRunner.repositoryFile("images/cat.png")
    let backbone = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_backbone")
    let target = CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/target_embedding.safetensors")
    let dump = scratch.file("d.safetensors")
    let run = try CommandRunner.run([cat, "-w", backbone, "--map", "gradcam", "--target-embedding", target, "--out", scratch.file("e.png"), "--dump", dump])
    #expect(run.status == 0, "\(run.error)")
    let file = try DumpFile(path: dump)
    #expect(file.shapes["embedding"] == [48])
    #expect(file.tensors["logits"] == nil)
    let result = try ImageAttention(contentsOfFile: cat, model: CheckpointModel(path: backbone))
    #expect(file.tensors["embedding"] == result.run.embedding)
    #expect(file.shapes["gradcam"] == [result.record.gridHeight, result.record.gridWidth])

    // A dump of another image is a target: its `embedding`, the same as that vector alone.
    let coffee = CommandRunner.repositoryFile("images/coffee.png")
    var alone = SafetensorsWriter()
    alone.add("text", shape: [48], values: try #require(file.tensors["embedding"]))
    try Data(alone.serialized()).write(to: URL(fileURLWithPath: scratch.file("alone.safetensors")))
    let fromDump = try CommandRunner.run([coffee, "-w", backbone, "--map", "gradcam", "--target-embedding", dump, "--out", scratch.file("k.png"), "--dump", scratch.file("k.safetensors")])
    let fromVector = try CommandRunner.run([coffee, "-w", backbone, "--map", "gradcam", "--target-embedding", scratch.file("alone.safetensors"), "--out", scratch.file("l.png"), "--dump", scratch.file("l.safetensors")])
    #expect(fromDump.status == 0 && fromVector.status == 0, "\(fromDump.error) \(fromVector.error)")
    let (k, l) = (try DumpFile(path: scratch.file("k.safetensors")), try DumpFile(path: scratch.file("l.safetensors")))
    #expect(k.tensors["gradcam"] != nil && k.tensors["gradcam"] == l.tensors["gradcam"])

    let noTarget = try CommandRunner.run([cat, "-w", backbone, "--map", "gradcam", "--out", scratch.file("f.png")])
    #expect(noTarget.status == 1)
    #expect(noTarget.error.contains("no classifier"))
    let many = CommandRunner.repositoryFile("Tests/VitAttendCLITests/Fixtures/attribution/faithfulness.safetensors")
    let bad = try CommandRunner.run([cat, "-w", backbone, "--map", "gradcam", "--target-embedding", many, "--out", scratch.file("g.png")])
    #expect(bad.status == 1)
    #expect(bad.error.contains("not a target embedding"))
    let wrongSize = try CommandRunner.run([cat, "-w", CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic"), "--map", "gradcam", "--target-embedding", target, "--out", scratch.file("h.png")])
    #expect(wrongSize.status == 1)
    #expect(wrongSize.error.contains("--target-embedding has 48 values"))
  }

  @Test func modelsWithoutAClassifierAreRefused() throws {
    let backbone = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_backbone"))
    let image = Tensor(repeating: 0.1, shape: [1, 3, 32, 32])
    #expect(throws: VisionAttentionError.noClassifier) { try backbone.model.attributions(batch: image, targets: [.topClass]) }
    let classifier = try CheckpointModel(path: CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic"))
    #expect(throws: VisionAttentionError.classOutOfRange(class: 10, classes: 10)) {
      try classifier.model.attributions(batch: Tensor(repeating: 0.1, shape: [1, 3, 64, 64]), targets: [.classIndex(10)])
    }
  }

  @Test func commandWritesTheMapsAndNamesTheClass() throws {
    let scratch = ScratchFolder()
    let cat = CommandRunner.repositoryFile("images/cat.png")
    let weights = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
    // The library's maps for the same image and class are what the command dumps.
    let result = try ImageAttention(contentsOfFile: cat, model: CheckpointModel(path: weights))
    var settings = FigureSettings()
    (settings.map, settings.target, settings.layer) = (.gradcam, .classIndex(7), 0)
    let attribution = try result.scene(settings).attribution()
    #expect(attribution.targetClass == 7)
    let t = attribution.tokens  // the cat fits 64 px as 64x32: a 4x2 grid
    let expected: [(map: String, shape: [Int], values: [Float])] = [
      ("gradrollout", [t, t], attribution.gradRollout), ("gradcam", [attribution.gridHeight, attribution.gridWidth], attribution.gradCAM),
      ("attngrad", [t, t], attribution.attentionGradient[0]),
    ]
    for (map, shape, values) in expected {
      let dump = scratch.file("\(map).safetensors")
      let run = try CommandRunner.run([cat, "-w", weights, "--map", map, "--class", "7", "--layer", "0", "--out", scratch.file("\(map).png"), "--dump", dump])
      #expect(run.status == 0, "\(run.error)")
      let file = try DumpFile(path: dump)
      #expect(file.shapes[map] == shape, "\(map)")
      #expect(file.tensors[map] == values, "\(map)")
      #expect(file.metadata["class"] == "7", "\(map)")
    }

    let builtIn = try CommandRunner.run([cat, "--map", "gradrollout", "--out", scratch.file("b.png")])
    #expect(builtIn.status == 1)
    #expect(builtIn.error.contains("no classifier"))
    let outOfRange = try CommandRunner.run([cat, "-w", weights, "--map", "gradcam", "--class", "99", "--out", scratch.file("c.png")])
    #expect(outOfRange.status == 1)
    #expect(outOfRange.error.contains("--class 99 is out of range"))
  }
}
