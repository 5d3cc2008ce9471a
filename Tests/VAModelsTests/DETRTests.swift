import Foundation
import VASafetensors
import VATensorCore
import Testing
@testable import VAModels

// Fixtures written by Scripts/reference/detr_fixtures.py (torch 2.15, timm 1.0.31,
// transformers 5.25.0, random weights). Regenerate: python3 Scripts/reference/detr_fixtures.py

/// DETR against transformers' `DetrForObjectDetection` (eval, eager attention) in every layout
/// the loader reads: timm and transformers ResNet backbones, transformers 4 (hub,
/// `save_pretrained`) and 5 (in-memory) names, F16 and F32 weights.
struct DETRTests {
  static let fixtures: [(name: String, layout: DETRKeyLayout, timm: Bool)] = [
    ("detr_timm_v4", .transformers4, true), ("detr_timm_v5", .transformers5, true),
    ("detr_hf_v4", .transformers4, false), ("detr_hf_v5", .transformers5, false),
  ]

  /// Every encoder, decoder self- and cross-attention, the logits, the boxes, the backbone's
  /// last map, the sine encoding and the post-processed scores and pixel boxes within 1e-5 of
  /// the reference's largest value, at 96×160 (a 3×5 feature map); the post-processed labels equal.
  @Test(arguments: fixtures.map(\.name))
  func matchesTransformers(name: String) throws {
    let expected = try #require(Self.fixtures.first { $0.name == name })
    let imported = try DETR.importCheckpoint(from: fixturePath(name))
    let model = imported.model
    #expect(imported.layout == expected.layout)
    #expect(model.configuration.backbone == (expected.timm ? .timm(name: "resnet50") : .huggingFaceResNet))
    #expect(model.configuration.labels == ["cat", "dog", "remote", "couch", "N/A"])
    #expect(imported.preprocessing == .standard)
    #expect(model.encoder.count == 2 && model.decoder.count == 2 && model.queries == 10 && model.classes == 5)
    let reference = try SafetensorsFile(path: fixturePath("\(name)/reference.safetensors"))
    func tensor(_ key: String) throws -> Tensor { Tensor(shape: try #require(reference.info(key)).shape, scalars: try reference.floats(key)) }
    let input = try tensor("input")
    let (output, features) = withGradientsDisabled { (model(input), model.backbone(input.unsqueezed(0))) }
    #expect(output.featureHeight == 3 && output.featureWidth == 5)
    let position = model.positionEncoding(height: output.featureHeight, width: output.featureWidth)
    var produced: [String: Tensor] = ["features": features.squeezed(0), "position": position]
    for (key, value) in output.namedTensors { produced[String(key.dropFirst("detr.".count))] = value }
    produced["pred_boxes"] = produced.removeValue(forKey: "boxes")
    let detections = output.detections(threshold: 0, width: 800, height: 480)
    #expect(detections.map(\.query) == Array(0..<10))
    #expect(detections.map { Float($0.label) } == (try reference.floats("post_labels")))
    produced["post_scores"] = Tensor(shape: [10], scalars: detections.map(\.score))
    produced["post_boxes"] = Tensor(shape: [10, 4], scalars: detections.flatMap { [$0.minX, $0.minY, $0.maxX, $0.maxY] })
    #expect(Set(produced.keys) == Set(reference.tensorNames).subtracting(["input", "post_labels"]))
    var report: [String] = []
    for key in produced.keys.sorted() {
      let actual = try #require(produced[key]), wanted = try tensor(key)
      #expect(actual.shape == wanted.shape, "\(name) \(key): shape \(actual.shape), expected \(wanted.shape)")
      let error = peakRelativeError(actual.scalars, wanted.scalars)
      #expect(error < 1e-5, "\(name) \(key): differs by \(error) of its largest value")
      report.append("\(key) \(error)")
    }
    print("\(name): " + report.joined(separator: ", "))
  }

  /// The figure maps average the heads of the reference's attention (as `nn.MultiheadAttention`
  /// returns them in DETR's notebook), sum to 1, and a pixel maps to the cell 32 pixels wide.
  @Test func figureMapsAverageTheHeads() throws {
    let model = try DETR.importCheckpoint(from: fixturePath("detr_timm_v5")).model
    let reference = try SafetensorsFile(path: fixturePath("detr_timm_v5/reference.safetensors"))
    let input = Tensor(shape: try #require(reference.info("input")).shape, scalars: try reference.floats("input"))
    let output = withGradientsDisabled { model(input) }
    let cross = try reference.floats("decoder_cross.1"), encoder = try reference.floats("encoder.1")  // [2, 10, 15], [2, 15, 15]
    let map = output.crossAttentionMap(query: 7)
    #expect(map.shape == [3, 5])
    let wanted: [Float] = (0..<15).map { k -> Float in (cross[105 + k] + cross[255 + k]) / 2 }
    #expect(peakRelativeError(map.scalars, wanted) < 1e-5)
    #expect(abs(map.scalars.reduce(0, +) - 1) < 1e-5)
    let cell = output.featureCell(x: 100, y: 40)
    #expect(cell.row == 1 && cell.column == 3)
    #expect(output.featureCell(x: 10_000, y: -5) == (0, 4))
    let s = cell.row * 5 + cell.column
    let encoderMap = output.encoderAttentionMap(row: cell.row, column: cell.column)
    let wantedEncoder: [Float] = (0..<15).map { k -> Float in (encoder[s * 15 + k] + encoder[225 + s * 15 + k]) / 2 }
    #expect(peakRelativeError(encoderMap.scalars, wantedEncoder) < 1e-5)
  }

  /// The frozen norm is `x · (γ · rsqrt(σ² + 1e-5)) + (β − μ · scale)`, per channel: against
  /// the formula in Double (float32 rounding of the two-step form: 1e-6 relative) and, bit for
  /// bit, against the same two broadcast tensor ops transformers runs.
  @Test func frozenBatchNormIsAPerChannelAffineMap() {
    var rng = SplitMix64(seed: 7)
    let c = 3
    let weight = Tensor.randomNormal([c], std: 1, using: &rng), bias = Tensor.randomNormal([c], std: 1, using: &rng)
    let mean = Tensor.randomNormal([c], std: 1, using: &rng), variance = Tensor(shape: [c], scalars: [0.5, 1e-6, 2])
    let norm = FrozenBatchNorm2D(weight: weight, bias: bias, runningMean: mean, runningVariance: variance)
    let x = Tensor.randomNormal([2, c, 2, 3], std: 2, using: &rng)
    let y = norm(x)
    #expect(y.shape == x.shape)
    let scale = Tensor(shape: [1, c, 1, 1], scalars: (0..<c).map { weight.scalars[$0] * (1 / (variance.scalars[$0] + 1e-5).squareRoot()) })
    let shift = Tensor(shape: [1, c, 1, 1], scalars: (0..<c).map { bias.scalars[$0] - mean.scalars[$0] * scale.scalars[$0] })
    #expect(y.scalars == (x * scale + shift).scalars)
    for (i, value) in y.scalars.enumerated() {
      let ch = (i / 6) % c
      let (w, b, m, v) = (Double(weight.scalars[ch]), Double(bias.scalars[ch]), Double(mean.scalars[ch]), Double(variance.scalars[ch]))
      let exact = (Double(x.scalars[i]) - m) / (v + 1e-5).squareRoot() * w + b
      #expect(abs(Double(value) - exact) <= 1e-5 * max(1, abs(exact)), "element \(i): \(value) vs \(exact)")
    }
  }

  /// The sine encoding at the corners, against the formula in Double: the first y feature is
  /// `sin(2π · (row + 1)/(h + 1e-6))`, the second its cosine (dim_t[1] = 1), the x block starts at F.
  @Test(arguments: [(3, 5, 16), (1, 1, 4), (25, 34, 128)])
  func sineEncodingFollowsTheFormula(height: Int, width: Int, features: Int) {
    let encoding = DETRSinePositionEncoding(featuresPerAxis: features)(height: height, width: width)
    #expect(encoding.shape == [height * width, 2 * features])
    let d = 2 * features
    for (y, x) in [(0, 0), (height - 1, width - 1), (height / 2, width - 1)] {
      let row = (y * width + x) * d
      let py = 2 * Double.pi * Double(y + 1) / (Double(height) + 1e-6), px = 2 * Double.pi * Double(x + 1) / (Double(width) + 1e-6)
      for i in 0..<features {
        let dimT = pow(10000, Double(2 * (i / 2)) / Double(features))
        let wantY = i % 2 == 0 ? sin(py / dimT) : cos(py / dimT), wantX = i % 2 == 0 ? sin(px / dimT) : cos(px / dimT)
        #expect(abs(Double(encoding.scalars[row + i]) - wantY) < 2e-6, "(\(y), \(x)) y feature \(i)")
        #expect(abs(Double(encoding.scalars[row + features + i]) - wantX) < 2e-6, "(\(y), \(x)) x feature \(i)")
      }
    }
  }

  /// Settings and backbones the model does not implement are refused, naming the setting.
  @Test(arguments: [
    (#"{"dilation": true}"#, "dilation"),
    (#"{"backbone": "resnet18"}"#, "backbone 'resnet18'"),
    (#"{"backbone": "resnet50d"}"#, "backbone 'resnet50d'"),
    (#"{"backbone": "efficientnet_b0"}"#, "backbone 'efficientnet_b0'"),
    (#"{"position_embedding_type": "learned"}"#, "position_embedding_type 'learned'"),
    (#"{"activation_function": "gelu"}"#, "activation_function 'gelu'"),
    (#"{"model_type": "deformable_detr"}"#, "model_type 'deformable_detr'"),
    (#"{"architectures": ["DetrForSegmentation"]}"#, "DetrForSegmentation"),
    (#"{"use_timm_backbone": false}"#, "no backbone_config"),
    (#"{"backbone_config": {"model_type": "timm_backbone", "backbone": "resnet50", "output_stride": 16}}"#, "output_stride 16"),
    (#"{"backbone_config": {"model_type": "resnet", "layer_type": "preactivation"}}"#, "layer_type 'preactivation'"),
    (#"{"backbone_config": {"model_type": "resnet", "layer_type": "basic", "depths": [1, 1, 1], "out_features": ["stage2"]}}"#, "out_features"),
    (#"{"backbone_config": {"model_type": "resnet", "downsample_in_bottleneck": true}}"#, "downsample_in_bottleneck"),
    (#"{"backbone_config": {"model_type": "resnet", "downsample_in_first_stage": true}}"#, "downsample_in_first_stage"),
    (#"{"backbone_config": {"model_type": "swin"}}"#, "model_type 'swin'"),
    (#"{"backbone_kwargs": {"output_stride": 16, "out_indices": [1, 2, 3, 4]}}"#, "output_stride 16"),
    (#"{"backbone_kwargs": {"out_indices": [1, 2, 3]}}"#, "out_indices"),
  ])
  func unimplementedSettingsAreRefusedByName(settings: String, named: String) throws {
    var json: [String: Any] = ["model_type": "detr", "use_timm_backbone": true, "backbone": "resnet50", "d_model": 32]
    let overrides = try #require(try JSONSerialization.jsonObject(with: Data(settings.utf8)) as? [String: Any])
    json.merge(overrides) { $1 }
    do throws(CheckpointError) {
      _ = try DETRConfiguration(json: json, path: "config.json")
      Issue.record("\(settings) was accepted")
    } catch {
      let message = error.description
      #expect(message.contains(named), "\(message)")
      #expect(message.contains("not implemented") || message.contains("no backbone_config"), "\(message)")
    }
  }

  /// transformers 4's hub form and 5's `backbone_config` form read the same; pretrained tags pass.
  @Test func bothConfigFormsRead() throws {
    let v4 = try DETRConfiguration(json: ["use_timm_backbone": true, "backbone": "resnet101", "id2label": ["0": "a", "2": "c"]], path: "c")
    #expect(v4.backbone == .timm(name: "resnet101") && v4.labels == ["a", "LABEL_1", "c"] && v4.width == 256 && v4.queries == 100)
    let v5 = try DETRConfiguration(json: ["backbone_config": ["model_type": "timm_backbone", "backbone": "resnet50.a1_in1k"]], path: "c")
    #expect(v5.backbone == .timm(name: "resnet50.a1_in1k"))
    let hf = try DETRConfiguration(json: ["use_timm_backbone": false, "backbone_config": ["model_type": "resnet", "layer_type": "bottleneck"]], path: "c")
    #expect(hf.backbone == .huggingFaceResNet)
  }

  /// A config that names one backbone over weights of the other is refused, naming the tensor sought.
  @Test func backboneKindMustMatchTheWeights() throws {
    let folder = NSTemporaryDirectory() + "detr-mismatch-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.copyItem(atPath: fixturePath("detr_hf_v4/model.safetensors"), toPath: folder + "/model.safetensors")
    let config = #"{"model_type": "detr", "use_timm_backbone": true, "backbone": "resnet50", "d_model": 32, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "num_queries": 10}"#
    try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
    do throws(CheckpointError) {
      _ = try DETR.importCheckpoint(from: folder)
      Issue.record("a transformers ResNet loaded as timm's")
    } catch {
      #expect(error.description.contains("timm backbone") && error.description.contains("conv1.weight"), "\(error)")
    }
  }

  /// `encoder_layers` / `decoder_layers` that disagree with the tensors are refused.
  @Test func layerCountsMustMatchTheWeights() throws {
    let folder = NSTemporaryDirectory() + "detr-layers-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.copyItem(atPath: fixturePath("detr_timm_v5/model.safetensors"), toPath: folder + "/model.safetensors")
    let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("detr_timm_v5/config.json")))
    var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    json["decoder_layers"] = 6
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
    #expect(throws: CheckpointError.inconsistent(path: folder + "/model.safetensors", reason: "config.json declares 6 decoder layers, the weights hold 2")) {
      try DETR.importCheckpoint(from: folder)
    }
  }

  /// A label id the class head cannot produce is refused; fewer labels than the head read `LABEL_i`.
  @Test func labelsMustFitTheClassHead() throws {
    let folder = NSTemporaryDirectory() + "detr-labels-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.copyItem(atPath: fixturePath("detr_hf_v4/model.safetensors"), toPath: folder + "/model.safetensors")
    let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("detr_hf_v4/config.json")))
    var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    json["id2label"] = ["0": "cat", "2": "remote"]
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
    #expect(try DETR.importCheckpoint(from: folder).model.configuration.labels == ["cat", "LABEL_1", "remote", "LABEL_3", "LABEL_4"])
    json["id2label"] = ["5": "sixth"]
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
    #expect(throws: CheckpointError.self) { try DETR.importCheckpoint(from: folder) }
  }

  /// DetrImageProcessor's resize rule (shortest edge 800, longest at most 1333), values from
  /// transformers' `get_size_with_aspect_ratio`.
  @Test(arguments: [
    ((480, 640), (800, 1066)), ((96, 160), (800, 1333)), ((1000, 300), (1333, 400)), ((800, 1200), (800, 1200)),
    ((333, 1000), (444, 1333)), ((800, 800), (800, 800)),
  ])
  func resizeFollowsDetrImageProcessor(size: (Int, Int), expected: (Int, Int)) {
    let resized = DETRPreprocessing.standard.resizedSize(height: size.0, width: size.1)
    #expect(resized.height == expected.0 && resized.width == expected.1, "\(size) → \(resized)")
  }

  /// `preprocessor_config.json` keys override the defaults; malformed ones are refused.
  @Test func preprocessorConfigReads() throws {
    let custom = try DETRPreprocessing(json: ["image_mean": [0.5, 0.5, 0.5], "size": ["shortest_edge": 512, "longest_edge": 864]], path: "p")
    #expect(custom.mean == [0.5, 0.5, 0.5] && custom.std == DETRPreprocessing.standard.std && custom.shortestEdge == 512 && custom.longestEdge == 864)
    #expect(throws: CheckpointError.self) { try DETRPreprocessing(json: ["size": ["height": 800, "width": 800]], path: "p") }
    // The hub's DetrFeatureExtractor form.
    let hub = try DETRPreprocessing(json: ["size": 800, "max_size": 1333, "feature_extractor_type": "DetrFeatureExtractor"], path: "p")
    #expect(hub == .standard)
    #expect(try DETRPreprocessing(json: ["size": 512], path: "p").longestEdge == 1333)
  }
}
