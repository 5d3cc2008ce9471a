import Foundation
import VAModels
import VASafetensors
import VATensorCore

/// Why a model could not be written.
public enum DetectionExportError: Error, CustomStringConvertible {
  case labels(count: Int, classes: Int)
  case write(path: String, reason: String)

  public var description: String {
    switch self {
    case .labels(let count, let classes): "\(count) class names for a model with \(classes) classes"
    case .write(let path, let reason): "\(path): cannot write the model: \(reason)"
    }
  }
}

extension SmallDETR {
  /// `config.json` for transformers' `DetrConfig`: a basic-block `ResNetConfig` backbone
  /// (`use_timm_backbone: false`), no pretrained weights, `id2label` from `labels`.
  public func huggingFaceConfig(labels: [String]) -> [String: Any] {
    let c = configuration
    return [
      "architectures": ["DetrForObjectDetection"], "model_type": "detr", "use_timm_backbone": false, "use_pretrained_backbone": false,
      "backbone_config": [
        "model_type": "resnet", "layer_type": "basic", "num_channels": 3, "embedding_size": c.stemWidth, "hidden_sizes": c.stageWidths,
        "depths": c.depths, "hidden_act": "relu", "downsample_in_first_stage": false, "downsample_in_bottleneck": false,
        "out_features": ["stage\(c.depths.count)"],
      ] as [String: Any],
      "num_channels": 3, "d_model": c.width, "encoder_layers": c.encoderLayers, "decoder_layers": c.decoderLayers,
      "encoder_attention_heads": c.heads, "decoder_attention_heads": c.heads, "encoder_ffn_dim": c.feedForward, "decoder_ffn_dim": c.feedForward,
      "num_queries": c.queries, "activation_function": "relu", "position_embedding_type": "sine", "dilation": false, "auxiliary_loss": false,
      "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "eos_coefficient": 0.1,
      "class_cost": 1, "bbox_cost": 5, "giou_cost": 2, "bbox_loss_coefficient": 5, "giou_loss_coefficient": 2,
      "id2label": Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) }),
      "label2id": Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) }),
    ]
  }

  /// `preprocessor_config.json` for `DetrImageProcessor`: images resized to `imageSize` on their
  /// longer side (a square image of that size is left alone), ImageNet normalisation.
  public static func huggingFacePreprocessor(imageSize: Int) -> [String: Any] {
    [
      "image_processor_type": "DetrImageProcessor", "do_resize": true, "size": ["shortest_edge": imageSize, "longest_edge": imageSize],
      "resample": 2, "do_rescale": true, "rescale_factor": 1.0 / 255, "do_normalize": true,
      "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "do_pad": true, "format": "coco_detection",
    ]
  }

  /// The preprocessing `huggingFacePreprocessor` writes, as VAModels reads it.
  public static func preprocessing(imageSize: Int) -> DETRPreprocessing {
    DETRPreprocessing(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], shortestEdge: imageSize, longestEdge: imageSize)
  }

  /// Writes `folder` as a `DetrForObjectDetection` checkpoint (transformers 4's key names, as
  /// the hub's files and `save_pretrained` write them): `config.json`, `preprocessor_config.json`
  /// and `model.safetensors` holding the first query group, the backbone's batch norms as their
  /// running statistics (`DetrFrozenBatchNorm2d`'s buffers). Everything goes to a temporary
  /// folder beside `folder`, renamed over it at the end, so a failure leaves no partial model.
  public func saveHuggingFace(to folder: String, labels: [String], imageSize: Int) throws(DetectionExportError) {
    guard labels.count == configuration.classes else { throw .labels(count: labels.count, classes: configuration.classes) }
    var writer = SafetensorsWriter()
    for (name, tensor) in namedParameters + namedBuffers {
      if name == "model.query_position_embeddings.weight" {
        writer.add(name, shape: [configuration.queries, configuration.width], values: Array(tensor.scalars.prefix(configuration.queries * configuration.width)))
      } else {
        writer.add(name, shape: tensor.shape, values: tensor.scalars)
      }
    }
    writer.metadata = ["format": "pt"]
    let fm = FileManager.default
    let parent = (folder as NSString).deletingLastPathComponent
    let temporary = (parent.isEmpty ? "." : parent) + "/.\((folder as NSString).lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)"
    do {
      try? fm.removeItem(atPath: temporary)
      try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
      func json(_ value: Any, _ name: String) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: temporary + "/" + name))
      }
      try json(huggingFaceConfig(labels: labels), "config.json")
      try json(Self.huggingFacePreprocessor(imageSize: imageSize), "preprocessor_config.json")
      try Data(writer.serialized()).write(to: URL(fileURLWithPath: temporary + "/model.safetensors"))
      if fm.fileExists(atPath: folder) {
        _ = try fm.replaceItemAt(URL(fileURLWithPath: folder), withItemAt: URL(fileURLWithPath: temporary))
      } else {
        try fm.moveItem(atPath: temporary, toPath: folder)
      }
    } catch {
      try? fm.removeItem(atPath: temporary)
      throw .write(path: folder, reason: "\(error)")
    }
  }
}
