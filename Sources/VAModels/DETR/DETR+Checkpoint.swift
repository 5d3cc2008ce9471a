import Foundation
import VALayers
import VASafetensors
import VATensorCore

/// How a DETR checkpoint names its tensors.
public enum DETRKeyLayout: String, Sendable, CaseIterable {
  /// What the hub ships and transformers (4 and 5) write with `save_pretrained`:
  /// `model.backbone.conv_encoder.model.*`, `*.out_proj`, `layers.{i}.fc1`.
  case transformers4
  /// transformers 5's in-memory names (its `state_dict()`): `model.backbone.model.*`,
  /// `*.o_proj`, `layers.{i}.mlp.fc1`.
  case transformers5
}

/// A DETR checkpoint read from a folder: the model, its preprocessing and the layout found.
public struct ImportedDETR: Sendable {
  /// The model.
  public var model: DETR
  /// `preprocessor_config.json`'s settings, or DetrImageProcessor's defaults without the file.
  public var preprocessing: DETRPreprocessing
  /// The tensor names' layout.
  public var layout: DETRKeyLayout
}

extension DETR {
  /// Whether `path` (a `.safetensors` file or a folder holding one) holds a DETR checkpoint
  /// (its class or box head, `class_labels_classifier` / `bbox_predictor`); reads the header
  /// only and is false for anything unreadable. How a caller picks this loader.
  public static func isDETRCheckpoint(at path: String) -> Bool {
    guard let names = CheckpointReader.tensorNames(at: path) else { return false }
    return names.contains { $0.hasPrefix("bbox_predictor.") || $0.hasPrefix("class_labels_classifier.") }
  }

  /// Reads a `DetrForObjectDetection` folder (`config.json`, `model.safetensors`, optionally
  /// `preprocessor_config.json`) in either key layout, timm or transformers ResNet backbone,
  /// F32, F16 or BF16 weights. Depths and widths come from the tensors (so resnet50 and
  /// resnet101 load alike); heads, labels and the backbone kind from `config.json`.
  ///
  /// - Throws: `CheckpointError`: settings that are not implemented (`DETRConfiguration`),
  ///   missing or misshapen tensors, and tensors nobody reads (a variant this loader does not know).
  public static func importCheckpoint(from folder: String) throws(CheckpointError) -> ImportedDETR {
    let configPath = (folder as NSString).appendingPathComponent("config.json")
    guard let json = try readJSON(configPath) else { throw .badConfig(path: configPath, reason: "DETR needs config.json beside the weights") }
    let configuration = try DETRConfiguration(json: json, path: configPath)
    let preprocessorPath = (folder as NSString).appendingPathComponent("preprocessor_config.json")
    let preprocessing = try readJSON(preprocessorPath).map { json throws(CheckpointError) in try DETRPreprocessing(json: json, path: preprocessorPath) } ?? .standard
    let reader = try CheckpointReader.open(folder).reader
    let (model, layout) = try read(reader, configuration: configuration)
    reader.ignore { $0.hasSuffix(".num_batches_tracked") }  // dropped by DetrFrozenBatchNorm2d too
    try reader.checkAllUsed()
    return ImportedDETR(model: model, preprocessing: preprocessing, layout: layout)
  }

  static func read(_ r: CheckpointReader, configuration: DETRConfiguration) throws(CheckpointError) -> (DETR, DETRKeyLayout) {
    let layout: DETRKeyLayout = r.has("model.encoder.layers.0.self_attn.o_proj.weight") || r.has("model.decoder.layers.0.self_attn.o_proj.weight") ? .transformers5 : .transformers4
    let backbonePrefix = r.file.tensorNames.contains { $0.hasPrefix("model.backbone.conv_encoder.model.") } ? "model.backbone.conv_encoder.model." : "model.backbone.model."
    let backbone: ResNetTrunk
    switch configuration.backbone {
    case .timm:
      guard r.has(backbonePrefix + "conv1.weight") else {
        throw .inconsistent(path: r.path, reason: "config.json names a timm backbone but there is no \(backbonePrefix)conv1.weight")
      }
      backbone = try readTimmResNet(r, prefix: backbonePrefix)
    case .huggingFaceResNet:
      guard r.has(backbonePrefix + "embedder.embedder.convolution.weight") else {
        throw .inconsistent(path: r.path, reason: "config.json names a transformers ResNet backbone but there is no \(backbonePrefix)embedder.embedder.convolution.weight")
      }
      backbone = try readHuggingFaceResNet(r, prefix: backbonePrefix, layerType: configuration.resNetLayerType)
    }
    let d = configuration.width
    let (out, fc) = layout == .transformers5 ? ("o_proj", "mlp.fc") : ("out_proj", "fc")
    func attention(_ name: String, heads: Int) throws(CheckpointError) -> DETRAttention {
      guard d % heads == 0 else { throw .inconsistent(path: r.path, reason: "\(heads) heads do not divide d_model \(d)") }
      return DETRAttention(
        query: try r.linear(name + ".q_proj", d, d), key: try r.linear(name + ".k_proj", d, d), value: try r.linear(name + ".v_proj", d, d),
        output: try r.linear(name + "." + out, d, d), heads: heads)
    }
    func feedForward(_ name: String) throws(CheckpointError) -> DETRFeedForward {
      guard let hidden = r.shape(name + ".\(fc)1.weight")?.first else { throw .missingTensor(path: r.path, name: name + ".\(fc)1.weight") }
      return DETRFeedForward(fc1: try r.linear(name + ".\(fc)1", hidden, d), fc2: try r.linear(name + ".\(fc)2", d, hidden))
    }
    func norm(_ name: String) throws(CheckpointError) -> LayerNorm { try r.layerNorm(name, width: d, eps: 1e-5) }

    var encoder: [DETREncoderLayer] = []
    for l in 0..<r.indices(after: "model.encoder.layers.") {
      let p = "model.encoder.layers.\(l)"
      encoder.append(
        DETREncoderLayer(
          attention: try attention(p + ".self_attn", heads: configuration.encoderHeads), attentionNorm: try norm(p + ".self_attn_layer_norm"),
          feedForward: try feedForward(p), finalNorm: try norm(p + ".final_layer_norm")))
    }
    var decoder: [DETRDecoderLayer] = []
    for l in 0..<r.indices(after: "model.decoder.layers.") {
      let p = "model.decoder.layers.\(l)"
      decoder.append(
        DETRDecoderLayer(
          selfAttention: try attention(p + ".self_attn", heads: configuration.decoderHeads), selfAttentionNorm: try norm(p + ".self_attn_layer_norm"),
          crossAttention: try attention(p + ".encoder_attn", heads: configuration.decoderHeads), crossAttentionNorm: try norm(p + ".encoder_attn_layer_norm"),
          feedForward: try feedForward(p), finalNorm: try norm(p + ".final_layer_norm")))
    }
    guard !encoder.isEmpty && !decoder.isEmpty else { throw .unknownLayout(path: r.path, sample: Array(r.file.tensorNames.prefix(8))) }
    for (kind, declared, found) in [("encoder", configuration.encoderLayers, encoder.count), ("decoder", configuration.decoderLayers, decoder.count)] {
      if let declared, declared != found {
        throw .inconsistent(path: r.path, reason: "config.json declares \(declared) \(kind) layers, the weights hold \(found)")
      }
    }
    let projection = Conv2D(
      weight: try r.tensor("model.input_projection.weight", [d, backbone.outputs, 1, 1]), bias: try r.tensor("model.input_projection.bias", [d]))
    let classes = configuration.labels.count
    guard let headRows = r.shape("class_labels_classifier.weight")?.first else { throw .missingTensor(path: r.path, name: "class_labels_classifier.weight") }
    // transformers sizes the head from len(id2label) + 1; ids beyond the head are an error,
    // ids it skips read LABEL_i.
    guard headRows >= 2 && classes <= headRows - 1 else {
      throw .inconsistent(
        path: r.path, reason: "id2label names class ids up to \(classes - 1) but class_labels_classifier has \(headRows) rows (classes + 1 for 'no object')")
    }
    var config = configuration
    config.labels += (config.labels.count..<(headRows - 1)).map { "LABEL_\($0)" }
    let model = DETR(
      configuration: config, backbone: backbone, inputProjection: projection, encoder: encoder, decoder: decoder,
      queryPositions: try r.tensor("model.query_position_embeddings.weight", [configuration.queries, d]),
      decoderNorm: try norm("model.decoder.layernorm"), classHead: try r.linear("class_labels_classifier", headRows, d),
      boxHead: [try r.linear("bbox_predictor.layers.0", d, d), try r.linear("bbox_predictor.layers.1", d, d), try r.linear("bbox_predictor.layers.2", 4, d)])
    return (model, layout)
  }
}
