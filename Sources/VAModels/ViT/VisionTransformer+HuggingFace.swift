import Foundation
import VALayers
import VATensorCore

/// The Hugging Face models that share `ViTModel`'s layout (`[prefix.]embeddings.patch_embeddings`,
/// `encoder.layer.{i}.attention.attention.{query,key,value}`) and differ in names and extras.
enum HuggingFaceViTFlavour: String {
  /// `ViTModel` / `ViTForImageClassification` (`vit.`; `layernorm_before`, `intermediate.dense`).
  case vit
  /// `DeiTModel` / `DeiTForImageClassification[WithTeacher]` (`deit.`; a distillation token,
  /// `cls_classifier` and `distillation_classifier` averaged).
  case deit
  /// `Dinov2Model` (`norm1`, `mlp.fc1` or SwiGLU `mlp.weights_in`, `layer_scale{1,2}.lambda1`).
  case dinov2
  /// `Dinov2WithRegistersModel`: DINOv2 with `embeddings.register_tokens` after the class
  /// token (no position embedding of their own) and antialiased position interpolation.
  case dinov2WithRegisters = "dinov2_with_registers"

  /// Which flavour the tensors under `prefix` are.
  static func detect(_ r: CheckpointReader, prefix: String) -> HuggingFaceViTFlavour {
    if r.has(prefix + "embeddings.distillation_token") { return .deit }
    if r.has(prefix + "embeddings.register_tokens") { return .dinov2WithRegisters }
    if r.has(prefix + "encoder.layer.0.norm1.weight") { return .dinov2 }
    return .vit
  }

  /// `model_type` values of this layout.
  var modelTypes: [String] {
    switch self {
    case .vit: ["vit", "deit"]
    case .deit: ["deit"]
    case .dinov2: ["dinov2"]
    case .dinov2WithRegisters: ["dinov2_with_registers"]
    }
  }
}

extension VisionTransformer {
  /// Hugging Face ViT-style layout, with or without the model prefix (`vit.`, `deit.`,
  /// `dinov2.`), with or without a classifier. `config` is `config.json` (`hidden_size`,
  /// `num_attention_heads`, `layer_norm_eps`, `hidden_act`, `model_type`), `preprocessor` is
  /// `preprocessor_config.json` (`image_mean`, `image_std`). The pooler (`pooler.dense`,
  /// unused by the classifier) and the mask token are skipped. Positions are resampled as
  /// transformers' `interpolate_pos_encoding` does (bicubic, align_corners=False).
  static func loadHuggingFace(_ r: CheckpointReader, prefix: String, config: [String: Any]?, preprocessor: [String: Any]?, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    let flavour = HuggingFaceViTFlavour.detect(r, prefix: prefix)
    if let value = config?["num_attention_heads"], integer(value) == nil {
      throw .badConfig(path: path, reason: "num_attention_heads = \(value) is not a whole number")
    }
    let e = prefix + "embeddings."
    guard let projection = r.shape(e + "patch_embeddings.projection.weight"), projection.count == 4, projection[1] == 3, projection[2] == projection[3] else {
      throw .inconsistent(path: path, reason: "\(e)patch_embeddings.projection.weight must be [D, 3, P, P]")
    }
    let d = projection[0], p = projection[2]
    let depth = r.indices(after: prefix + "encoder.layer.")
    guard depth > 0 else { throw .missingTensor(path: path, name: prefix + "encoder.layer.0.attention.attention.query.weight") }
    let l0 = prefix + "encoder.layer.0."
    let hidden = r.shape(l0 + "intermediate.dense.weight")?.first ?? r.shape(l0 + "mlp.fc1.weight")?.first ?? r.shape(l0 + "mlp.weights_out.weight")?.last ?? 4 * d
    var c = ViTConfiguration(
      patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: integer(config?["num_attention_heads"]), override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: hidden)
    if let type = config?["model_type"] as? String, !flavour.modelTypes.contains(type) {
      throw .badConfig(path: path, reason: "model_type '\(type)' is not implemented for this layout (\(flavour.rawValue) weights, model_type \(flavour.modelTypes.joined(separator: " or ")))")
    }
    c.classToken = r.has(e + "cls_token")
    c.distillationToken = r.has(e + "distillation_token")
    c.layerNormEps = (config?["layer_norm_eps"] as? Double).map(Float.init) ?? 1e-12
    if config == nil { notes.append("layer-norm eps inferred as 1e-12, Hugging Face's default (no config gives it)") }
    c.registerTokens = r.shape(e + "register_tokens")?[1] ?? 0
    if c.registerTokens > 0 { c.positionPlacement = .classAndPatches }
    // Dinov2WithRegisters interpolates with antialias=True (timm's kernel); the others without.
    c.positionResampling = flavour == .dinov2WithRegisters ? .timm : .huggingFace
    c.layerScale = r.has(l0 + "layer_scale1.lambda1")
    let classifier = r.has("cls_classifier.weight") ? "cls_classifier" : "classifier"
    c.classCount = r.shape(classifier + ".weight")?.first ?? 0
    c.globalPool = .token
    switch config?["hidden_act"] as? String ?? "gelu" {
    case "gelu": c.activation = .exact
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": c.activation = .tanh
    case "quick_gelu": c.activation = .quick
    case let other: throw .badConfig(path: path, reason: "hidden_act '\(other)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu)")
    }
    if let mean = floats(preprocessor?["image_mean"]), let std = floats(preprocessor?["image_std"]), mean.count == 3, std.count == 3 {
      c.mean = mean
      c.std = std
    } else {
      notes.append(normalisationNote)
    }
    guard let rows = r.shape(e + "position_embeddings")?[1], let side = squareSide(rows - c.positionPrefixRows) else {
      throw .inconsistent(path: path, reason: "\(e)position_embeddings must hold a square grid plus \(c.positionPrefixRows) prefix rows")
    }
    c.positionGridWidth = side
    c.positionGridHeight = side
    if integer(config?["image_size"]) == nil {
      notes.append("input size inferred as \(c.imageWidth)x\(c.imageHeight) from position_embeddings (no config gives it)")
    }

    func namedNorm(_ name: String) throws(CheckpointError) -> LayerNorm { try r.layerNorm(name, width: d, eps: c.layerNormEps) }
    var blocks: [TransformerBlock] = []
    for i in 0..<depth {
      let l = prefix + "encoder.layer.\(i)."
      // timm's fused qkv is the three projections stacked: rows q, then k, then v.
      let parts = try ["query", "key", "value"].map { (n: String) throws(CheckpointError) -> Linear in try r.linear(l + "attention.attention." + n, d, d) }
      let qkvBias = parts.allSatisfy { $0.bias != nil } ? concat(parts.map { $0.bias! }, axis: 0) : nil
      let qkv = Linear(weight: concat(parts.map(\.weight), axis: 0), bias: qkvBias)
      let mlp: Mlp
      switch flavour {
      case .vit, .deit:
        mlp = Mlp(fc1: try r.linear(l + "intermediate.dense", hidden, d), fc2: try r.linear(l + "output.dense", d, hidden), approximation: c.activation)
      case .dinov2, .dinov2WithRegisters:
        if r.has(l + "mlp.weights_in.weight") {
          // Dinov2SwiGLUFFN: weights_in holds the SiLU gate rows, then the value rows.
          let packed = try r.linear(l + "mlp.weights_in", 2 * hidden, d)
          let rows = packed.weight.chunked(2, axis: 0), biases = packed.bias?.chunked(2, axis: 0)
          mlp = Mlp(fc1: Linear(weight: rows[1], bias: biases?[1]), fc2: try r.linear(l + "mlp.weights_out", d, hidden), gate: Linear(weight: rows[0], bias: biases?[0]))
        } else {
          mlp = Mlp(fc1: try r.linear(l + "mlp.fc1", hidden, d), fc2: try r.linear(l + "mlp.fc2", d, hidden), approximation: c.activation)
        }
      }
      let dinov2 = flavour == .dinov2 || flavour == .dinov2WithRegisters
      blocks.append(
        TransformerBlock(
          norm1: try namedNorm(l + (dinov2 ? "norm1" : "layernorm_before")),
          attention: MultiHeadSelfAttention(qkv: qkv, projection: try r.linear(l + "attention.output.dense", d, d), headCount: c.headCount),
          layerScale1: c.layerScale ? LayerScale(gamma: try r.tensor(l + "layer_scale1.lambda1", [d])) : nil,
          norm2: try namedNorm(l + (dinov2 ? "norm2" : "layernorm_after")),
          mlp: mlp,
          layerScale2: c.layerScale ? LayerScale(gamma: try r.tensor(l + "layer_scale2.lambda1", [d])) : nil))
    }
    var model = VisionTransformer(
      configuration: c,
      patchEmbedding: PatchEmbedding(
        projection: Linear(weight: try r.tensor(e + "patch_embeddings.projection.weight", [d, 3 * p * p], storedAs: [d, 3, p, p]), bias: try r.optional(e + "patch_embeddings.projection.bias", [d])),
        patchSize: p),
      classToken: try r.optional(e + "cls_token", [1, d], storedAs: [1, 1, d]),
      registerTokens: nil,
      positionEmbedding: try r.tensor(e + "position_embeddings", [rows, d], storedAs: [1, rows, d]),
      preNorm: nil, blocks: blocks,
      norm: try namedNorm(prefix + "layernorm"), fcNorm: nil,
      head: c.classCount > 0 ? try r.linear(classifier, c.classCount, d) : nil)
    model.distillationToken = try r.optional(e + "distillation_token", [1, d], storedAs: [1, 1, d])
    if c.registerTokens > 0 {
      model.registerTokens = try r.tensor(e + "register_tokens", [c.registerTokens, d], storedAs: [1, c.registerTokens, d])
    }
    if c.classCount > 0, r.has("distillation_classifier.weight") {
      // DeiTForImageClassificationWithTeacher averages both heads in eval.
      model.headDistillation = try r.linear("distillation_classifier", c.classCount, d)
    }
    r.ignore { $0.hasPrefix(prefix + "pooler.") || $0 == e + "mask_token" }
    try r.checkAllUsed()
    return model
  }
}
