import Foundation

/// The backbone a DETR checkpoint declares, as the two libraries that build it name it.
public enum DETRBackbone: Sendable, Equatable {
  /// timm's ResNet (`use_timm_backbone: true`, `backbone: "resnet50"` in transformers 4;
  /// `backbone_config.model_type == "timm_backbone"` in transformers 5); the timm model name.
  case timm(name: String)
  /// transformers' own `ResNetBackbone` (`backbone_config.model_type == "resnet"`); its
  /// `layer_type` is `DETRConfiguration.resNetLayerType`.
  case huggingFaceResNet

  /// transformers' `ResNetConfig.layer_type`.
  public enum ResNetLayerType: String, Sendable, Equatable {
    /// Two 3×3 convolutions (`ResNetBasicLayer`).
    case basic
    /// 1×1, 3×3, 1×1 (`ResNetBottleNeckLayer`), the default.
    case bottleneck
  }

  /// timm names whose definition is a plain bottleneck ResNet with the 7×7 stem and 1×1
  /// projection shortcuts (timm `resnet.py`: `Bottleneck`, no deep stem, no average-pool
  /// shortcut), the only timm backbones this loader builds.
  public static let timmNames: Set<String> = ["resnet26", "resnet38", "resnet50", "resnet101", "resnet152"]
}

/// What a DETR checkpoint's `config.json` declares, after checking that the loader implements it.
///
/// Reads both transformers 4's form (`use_timm_backbone`, `backbone`, `dilation`) and 5's
/// (`backbone_config` with its `model_type`). Refused by name: other model types
/// (`conditional_detr`, `deformable_detr` …), `DetrForSegmentation`, learned position
/// embeddings, activations other than ReLU, dilation (DC5) or an output stride other than 32,
/// timm backbones other than `DETRBackbone.timmNames`, and transformers ResNets with basic
/// blocks or a stride moved to the first stage or the 1×1 convolution.
public struct DETRConfiguration: Sendable, Equatable {
  /// The backbone kind.
  public var backbone: DETRBackbone
  /// The blocks of a transformers ResNet backbone (`backbone_config.layer_type`); bottleneck
  /// for timm's.
  public var resNetLayerType: DETRBackbone.ResNetLayerType = .bottleneck
  /// `d_model`.
  public var width: Int
  /// `encoder_attention_heads`, `decoder_attention_heads`.
  public var encoderHeads: Int, decoderHeads: Int
  /// `num_queries`.
  public var queries: Int
  /// `encoder_layers`, `decoder_layers` when the file gives them (the tensors must agree).
  public var encoderLayers: Int?, decoderLayers: Int?
  /// Class names by index (`id2label`); ids the file skips read `LABEL_i`, as transformers names them.
  public var labels: [String]

  /// A configuration from `config.json`'s dictionary; `path` names the file in errors.
  public init(json: [String: Any], path: String) throws(CheckpointError) {
    func refuse(_ reason: String) -> CheckpointError { .badConfig(path: path, reason: reason) }
    let modelType = json["model_type"] as? String ?? "detr"
    guard modelType == "detr" else { throw refuse("model_type '\(modelType)' is not implemented (DETR here is transformers' 'detr')") }
    if let architectures = json["architectures"] as? [String], let other = architectures.first(where: { $0 != "DetrForObjectDetection" && $0 != "DetrModel" }) {
      throw refuse("architecture '\(other)' is not implemented (only DetrForObjectDetection)")
    }
    let position = json["position_embedding_type"] as? String ?? "sine"
    guard position == "sine" else { throw refuse("position_embedding_type '\(position)' is not implemented (only 'sine')") }
    let activation = json["activation_function"] as? String ?? "relu"
    guard activation == "relu" else { throw refuse("activation_function '\(activation)' is not implemented (only 'relu')") }
    if json["dilation"] as? Bool == true { throw refuse("dilation (DETR-DC5) is not implemented") }
    // transformers 4 passes these to timm.create_model; only the defaults build DETR's trunk.
    if let kwargs = json["backbone_kwargs"] as? [String: Any] {
      if let stride = integer(kwargs["output_stride"]), stride != 32 { throw refuse("backbone_kwargs.output_stride \(stride) (dilation) is not implemented") }
      if let indices = kwargs["out_indices"] as? [Any], let last = indices.last, integer(last) != 4 {
        throw refuse("backbone_kwargs.out_indices \(indices) is not implemented (DETR reads the last stage, index 4)")
      }
    }

    if let sub = json["backbone_config"] as? [String: Any] {
      let subType = sub["model_type"] as? String ?? ""
      switch subType {
      case "timm_backbone":
        backbone = .timm(name: sub["backbone"] as? String ?? "")
        if let stride = integer(sub["output_stride"]), stride != 32 { throw refuse("backbone_config.output_stride \(stride) (dilation) is not implemented") }
      case "resnet":
        let layer = sub["layer_type"] as? String ?? "bottleneck"
        guard let layerType = DETRBackbone.ResNetLayerType(rawValue: layer) else {
          throw refuse("backbone_config.layer_type '\(layer)' is not implemented (only 'bottleneck' or 'basic')")
        }
        backbone = .huggingFaceResNet
        resNetLayerType = layerType
        // DETR reads the last map transformers' ResNetBackbone returns; this loader runs the
        // whole trunk, so that map must be the last stage's.
        let stageCount = (sub["depths"] as? [Any])?.count ?? 4
        if let features = sub["out_features"] as? [String], let last = features.last, last != "stage\(stageCount)" {
          throw refuse("backbone_config.out_features \(features) is not implemented (DETR here reads the last stage, stage\(stageCount))")
        }
        if layerType == .bottleneck && stageCount != 4 { throw refuse("backbone_config.depths of \(stageCount) stages with bottlenecks is not implemented (4)") }
        for flag in ["downsample_in_first_stage", "downsample_in_bottleneck"] where sub[flag] as? Bool == true {
          throw refuse("backbone_config.\(flag) is not implemented")
        }
        let act = sub["hidden_act"] as? String ?? "relu"
        guard act == "relu" else { throw refuse("backbone_config.hidden_act '\(act)' is not implemented (only 'relu')") }
      default:
        throw refuse("backbone_config.model_type '\(subType)' is not implemented (only 'timm_backbone' or 'resnet')")
      }
    } else if json["use_timm_backbone"] as? Bool ?? true {
      backbone = .timm(name: json["backbone"] as? String ?? "resnet50")
    } else {
      throw refuse("use_timm_backbone is false but there is no backbone_config")
    }
    if case .timm(let name) = backbone {
      // A pretrained tag (`resnet50.a1_in1k`) names the same architecture.
      let base = String(name.split(separator: ".").first ?? "")
      guard DETRBackbone.timmNames.contains(base) else {
        throw refuse("backbone '\(name)' is not implemented (timm ResNets with bottleneck blocks: \(DETRBackbone.timmNames.sorted().joined(separator: ", ")))")
      }
    }

    func count(_ key: String, _ fallback: Int) throws(CheckpointError) -> Int {
      guard let value = json[key] else { return fallback }
      guard let n = integer(value), n > 0 else { throw refuse("\(key) must be a positive integer, got \(value)") }
      return n
    }
    width = try count("d_model", 256)
    encoderHeads = try count("encoder_attention_heads", 8)
    decoderHeads = try count("decoder_attention_heads", 8)
    queries = try count("num_queries", 100)
    encoderLayers = json["encoder_layers"] == nil ? nil : try count("encoder_layers", 6)
    decoderLayers = json["decoder_layers"] == nil ? nil : try count("decoder_layers", 6)
    var byID: [Int: String] = [:]
    for (key, value) in json["id2label"] as? [String: Any] ?? [:] {
      guard let id = Int(key), id >= 0, let name = value as? String else { throw refuse("id2label entry '\(key)': \(value) is not an id and a name") }
      byID[id] = name
    }
    let classes = byID.keys.max().map { $0 + 1 } ?? 0
    labels = (0..<classes).map { byID[$0] ?? "LABEL_\($0)" }
  }
}

/// DETR's preprocessing, from `preprocessor_config.json` (transformers' `DetrImageProcessor`):
/// resize so the shorter side is `shortestEdge` unless the longer would exceed `longestEdge`,
/// rescale by 1/255, normalise with `mean` and `std`.
public struct DETRPreprocessing: Sendable, Equatable {
  /// Per-channel mean and standard deviation (ImageNet's by default).
  public var mean: [Float], std: [Float]
  /// The target of the shorter side (800) and the cap on the longer (1333).
  public var shortestEdge: Int, longestEdge: Int

  /// DetrImageProcessor's defaults.
  public static let standard = DETRPreprocessing(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], shortestEdge: 800, longestEdge: 1333)

  /// Settings as given.
  public init(mean: [Float], std: [Float], shortestEdge: Int, longestEdge: Int) {
    (self.mean, self.std, self.shortestEdge, self.longestEdge) = (mean, std, shortestEdge, longestEdge)
  }

  /// The settings in `preprocessor_config.json`'s dictionary, defaults where a key is absent;
  /// `size` as `{shortest_edge, longest_edge}` or, as the hub's DETR folders give it, a number
  /// with `max_size`. Other size forms (`height`/`width`, `max_height`/`max_width`) are refused.
  public init(json: [String: Any], path: String) throws(CheckpointError) {
    self = .standard
    if let m = json["image_mean"] { guard let v = floats(m), v.count == 3 else { throw .badConfig(path: path, reason: "image_mean must be 3 numbers") }; mean = v }
    if let s = json["image_std"] { guard let v = floats(s), v.count == 3, v.allSatisfy({ $0 > 0 }) else { throw .badConfig(path: path, reason: "image_std must be 3 positive numbers") }; std = v }
    if let short = integer(json["size"]) {
      // The hub's older form (DetrFeatureExtractor): `size: 800`, `max_size: 1333`, read by
      // transformers as shortest and longest edge.
      let long = json["max_size"].map(integer) ?? 1333
      guard short > 0, let long, long >= short else { throw .badConfig(path: path, reason: "size \(short) and max_size \(json["max_size"] ?? "") must be positive, max_size ≥ size") }
      (shortestEdge, longestEdge) = (short, long)
    } else if let size = json["size"] as? [String: Any] {
      guard let short = integer(size["shortest_edge"]), let long = integer(size["longest_edge"]), short > 0, long >= short else {
        throw .badConfig(path: path, reason: "size must give shortest_edge and longest_edge (≥ shortest_edge), got \(size)")
      }
      (shortestEdge, longestEdge) = (short, long)
    }
  }

  /// The resized `(height, width)` of an `height × width` image, as transformers'
  /// `get_size_with_aspect_ratio` computes it (Python's round-half-even on the capped side,
  /// truncation of the other); 480×640 → 800×1066.
  public func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
    var size = shortestEdge
    var raw: Double?
    let (small, large) = (Double(min(height, width)), Double(max(height, width)))
    if large / small * Double(size) > Double(longestEdge) {
      raw = Double(longestEdge) * small / large
      size = Int(raw!.rounded(.toNearestOrEven))
    }
    if (height <= width && height == size) || (width <= height && width == size) { return (height, width) }
    let scale = raw ?? Double(size)
    return width < height ? (Int(scale * Double(height) / Double(width)), size) : (size, Int(scale * Double(width) / Double(height)))
  }
}
