import Foundation
import Testing
import VAModels
import VASafetensors
import VATensorCore
@testable import VAInspection

/// Grad-CAM of a trained CNN (`vit-attend --cnn-weights`) against PyTorch autograd, on CNN
/// checkpoints in patch-classify's layout with random weights.
/// Written by Scripts/reference/cnn_gradcam_fixtures.py (torch 2.15, seed 1 and 2).
/// Regenerate: python3 Scripts/reference/cnn_gradcam_fixtures.py
struct ConvNetGradCAMTests {
  static let cases = ["resnet", "resnet_sagan_last"]

  static func folder(_ name: String) -> String {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/cnn_gradcam/\(name)").path
  }

  /// Largest difference relative to the reference's largest magnitude.
  func errorOfMaximum(_ got: [Float], _ want: [Float]) -> Double {
    precondition(got.count == want.count, "\(got.count) vs \(want.count) values")
    let scale = Double(want.map { abs($0) }.max() ?? 0)
    let worst = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return worst / max(scale, 1e-30)
  }

  @Test(arguments: cases) func gradCAMMatchesPyTorchAutograd(name: String) throws {
    let checkpoint = try ConvNet.load(fromCheckpointFolder: Self.folder(name))
    let reference = try SafetensorsFile(path: Self.folder(name) + "/reference.safetensors")
    let input = Tensor(shape: [1, 3, 32, 32], scalars: try reference.floats("input"))
    let classes = try [0, 1].map { Int(try reference.floats("class.\($0)")[0]) }
    let logits = try reference.floats("logits")
    // The first class is the top-1, the second is not: the maps must follow the class.
    #expect(classes[0] == logits.indices.max { logits[$0] < logits[$1] } && classes[1] != classes[0])
    let top = checkpoint.net.gradCAM(input, classes: [nil])[0]
    #expect(top.targetClass == classes[0] && top.topClass == classes[0])
    let batch = Tensor(shape: [2, 3, 32, 32], scalars: input.scalars + input.scalars)
    let maps = checkpoint.net.gradCAM(batch, classes: classes)
    let shape = try #require(reference.info("gradcam.0")).shape
    for (i, cam) in maps.enumerated() {
      #expect(cam.targetClass == classes[i])
      #expect([cam.gridHeight, cam.gridWidth] == shape)
      #expect(errorOfMaximum(cam.logits, logits) < 1e-5, "\(name) logits")
      #expect(errorOfMaximum(cam.weights, try reference.floats("weights.\(i)")) < 1e-5, "\(name) class \(classes[i]) weights")
      #expect(errorOfMaximum(cam.map, try reference.floats("gradcam.\(i)")) < 1e-5, "\(name) class \(classes[i]) Grad-CAM")
      // Softmax of the reference logits, in Double.
      let peak = Double(logits.max()!), total = logits.reduce(0.0) { $0 + exp(Double($1) - peak) }
      #expect(abs(cam.probability - exp(Double(logits[classes[i]]) - peak) / total) < 1e-6)
    }
    #expect(errorOfMaximum(top.map, maps[0].map) < 1e-6)
    // Two classes, two different explanations.
    #expect(errorOfMaximum(maps[0].map, maps[1].map) > 1e-2)
  }

  /// Without SAGAN after the last stage, the head is global average pooling and a linear
  /// layer, so ∂y_K/∂A_k = W[K, k] / hw everywhere: Grad-CAM is the class activation map
  /// (Zhou et al. 2016) over hw. A check of the autograd path against the closed form.
  @Test func gradCAMOfAPooledLinearHeadIsTheScaledCAM() throws {
    let checkpoint = try ConvNet.load(fromCheckpointFolder: Self.folder("resnet"))
    var rng = SplitMix64(seed: 5)
    let input = Tensor.randomNormal([1, 3, 24, 40], using: &rng)
    var net = checkpoint.net
    let features = withGradientsDisabled { net.forward(input, training: false).features }
    let (c, h, w) = (features.shape[1], features.shape[2], features.shape[3])
    let head = net.head.weight.scalars
    for k in 0..<checkpoint.classCount {
      let cam = net.gradCAM(input, classes: [k])[0]
      #expect(cam.gridWidth == w && cam.gridHeight == h)
      let expected = (0..<(h * w)).map { p in
        max(0, (0..<c).reduce(Float(0)) { $0 + head[k * c + $1] * features.scalars[$1 * h * w + p] } / Float(h * w))
      }
      #expect(errorOfMaximum(cam.map, expected) < 1e-5, "class \(k)")
    }
    #expect(net.parameters.allSatisfy { $0.grad == nil && !$0.requiresGrad })
  }
}

/// `ConvNet.load(fromCheckpointFolder:)`: what a patch-classify CNN checkpoint says, and one
/// clear error for every way a folder can fail to be one.
struct ConvNetCheckpointTests {
  static func scratch() -> String {
    let path = NSTemporaryDirectory() + "convnet-checkpoint-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  @Test func loadsTheConfigAndSavesItBack() throws {
    let loaded = try ConvNet.load(fromCheckpointFolder: ConvNetGradCAMTests.folder("resnet_sagan_last"))
    #expect(loaded.inputSize == 32 && loaded.classCount == 3 && loaded.architecture == "resnet-like+sagan")
    #expect(loaded.net.configuration.attention?.afterStage == 1 && loaded.net.configuration.stageWidths == [8, 16])
    #expect(loaded.labelNames == ["class0", "class1", "class2"] && loaded.mean == [0.5, 0.5, 0.5])
    let folder = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try loaded.save(to: folder)
    let back = try ConvNet.load(fromCheckpointFolder: folder)
    #expect(back.config as NSDictionary == loaded.config as NSDictionary)
    var rng = SplitMix64(seed: 1)
    let x = Tensor.randomNormal([1, 3, 32, 32], using: &rng)
    var (a, b) = (loaded.net, back.net)
    #expect(withGradientsDisabled { a(x, training: false).scalars == b(x, training: false).scalars })
  }

  /// SAGAN settings other than patch-classify's defaults survive a save and a load (they
  /// used to be dropped, and a block that pools its keys came back without pooling); a
  /// config without them (the fixture, as checkpoints before the keys) reads the defaults.
  @Test func saganSettingsRoundTrip() throws {
    let attention = ConvNetConfiguration.Attention(afterStage: 1, ratio: 4, valueForm: .paper, poolsKeys: true, spectralNorm: true)
    var rng = SplitMix64(seed: 3)
    let net = ConvNet(ConvNetConfiguration.resNetLike(widths: [8, 16], classCount: 3).withAttention(attention), using: &rng)
    let folder = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try ConvNetCheckpoint(net: net, inputSize: 32).save(to: folder)
    let back = try ConvNet.load(fromCheckpointFolder: folder)
    #expect(back.net.configuration.attention == attention)
    let x = Tensor.randomNormal([1, 3, 32, 32], using: &rng)
    var (a, b) = (net, back.net)
    #expect(withGradientsDisabled { a(x, training: false).scalars == b(x, training: false).scalars })

    let fixture = try ConvNet.load(fromCheckpointFolder: ConvNetGradCAMTests.folder("resnet_sagan_last"))
    #expect(fixture.net.configuration.attention == ConvNetConfiguration.Attention(afterStage: 1))
    try fixture.save(to: folder)
    for (key, value, message) in [
      ("sagan_value_form", "other", "sagan_value_form is not one of bigGAN, paper, full"),
      ("sagan_pools_keys", "yes", "sagan_pools_keys is not true or false"),
    ] {
      var config = fixture.config
      config[key] = value
      try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
      do {
        _ = try ConvNet.load(fromCheckpointFolder: folder)
        Issue.record("\(key) = \(value) must be refused")
      } catch {
        #expect(error.description.contains(message), "\(error.description)")
      }
    }
  }

  @Test func refusesWhatIsNotACNNCheckpoint() throws {
    let folder = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let source = ConvNetGradCAMTests.folder("resnet")
    func attempt(_ config: [String: Any]?, weights: Bool = true) -> String {
      try? FileManager.default.removeItem(atPath: folder + "/config.json")
      try? FileManager.default.removeItem(atPath: folder + "/model.safetensors")
      if let config { try? JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json")) }
      if weights { try? FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: folder + "/model.safetensors") }
      do {
        _ = try ConvNet.load(fromCheckpointFolder: folder)
        return "loaded"
      } catch {
        return error.description
      }
    }
    let good = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))) as! [String: Any]
    #expect(attempt(good) == "loaded")
    func with(_ key: String, _ value: Any?) -> [String: Any] {
      var config = good
      config[key] = value
      return config
    }
    let cases: [(config: [String: Any]?, weights: Bool, message: String)] = [
      (nil, true, "config.json: missing"),
      (with("architecture", "vit_small_patch16_224"), true, "not a CNN checkpoint: architecture 'vit_small_patch16_224', expected resnet-like or resnet-like+sagan"),
      (with("architecture", nil), true, "not a CNN checkpoint: no architecture"),
      (with("stage_widths", [8, -1]), true, "stage_widths is missing"),
      (with("num_classes", 0), true, "num_classes is missing"),
      (with("input_size", [3, 32, 16]), true, "input_size is missing or not [3, side, side]"),
      (with("mean", nil), true, "mean is missing"),
      (with("std", [0.5, 0, 0.5]), true, "std is missing or not 3 positive numbers"),
      (with("label_names", ["a"]), true, "1 label_names for 4 classes"),
      (with("architecture", "resnet-like+sagan"), true, "sagan_after_stage is missing or not a stage index"),
      (
        {
          var c = with("num_classes", 5); c["label_names"] = nil; return c
        }(), true, "tensor 'head.weight' has shape [4, 32], expected [5, 32]"
      ),
      (good, false, "no .safetensors file"),
    ]
    for (config, weights, message) in cases {
      let got = attempt(config, weights: weights)
      #expect(got.contains(message), "\(got)")
    }
    var sagan = with("architecture", "resnet-like+sagan")
    sagan["sagan_after_stage"] = 0
    sagan["stage_widths"] = [4, 16, 32]
    #expect(attempt(sagan).contains("stage 0's width 4 does not divide by SAGAN's ratio 8"))
    let missing = folder + "/nothing"
    #expect(throws: CheckpointError.badConfig(path: missing, reason: "no such checkpoint folder (expected RUN/checkpoint with model.safetensors and config.json)")) {
      _ = try ConvNet.load(fromCheckpointFolder: missing)
    }
  }
}
