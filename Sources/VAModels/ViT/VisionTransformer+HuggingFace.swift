import Foundation
import VALayers
import VATensorCore

extension VisionTransformer {
  /// Hugging Face layout, with or without the `vit.` prefix, with or without `classifier`.
  /// `config` is `config.json` (`hidden_size`, `num_attention_heads`, `layer_norm_eps`,
  /// `hidden_act`), `preprocessor` is `preprocessor_config.json` (`image_mean`,
  /// `image_std`). The pooler (`pooler.dense`, unused by the classifier) is skipped.
  static func loadHuggingFace(_ r: CheckpointReader, prefix: String, config: [String: Any]?, preprocessor: [String: Any]?, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    let e = prefix + "embeddings."
    guard let projection = r.shape(e + "patch_embeddings.projection.weight"), projection.count == 4, projection[1] == 3, projection[2] == projection[3] else {
      throw .inconsistent(path: path, reason: "\(e)patch_embeddings.projection.weight must be [D, 3, P, P]")
    }
    let d = projection[0], p = projection[2]
    let depth = r.indices(after: prefix + "encoder.layer.")
    guard depth > 0 else { throw .missingTensor(path: path, name: prefix + "encoder.layer.0.attention.attention.query.weight") }
    let hidden = r.shape(prefix + "encoder.layer.0.intermediate.dense.weight")?.first ?? 4 * d
    var c = ViTConfiguration(patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: integer(config?["num_attention_heads"]), override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: hidden)
    c.classToken = r.has(e + "cls_token")
    if let type = config?["model_type"] as? String, type != "vit" {
      throw .badConfig(path: path, reason: "model_type '\(type)' is not implemented for this layout (ViTModel weights with model_type 'vit')")
    }
    c.layerNormEps = (config?["layer_norm_eps"] as? Double).map(Float.init) ?? 1e-12
    c.positionResampling = .huggingFace
    c.classCount = r.shape("classifier.weight")?.first ?? 0
    c.globalPool = .token
    let approximation: GELUApproximation
    switch config?["hidden_act"] as? String ?? "gelu" {
    case "gelu": approximation = .exact
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": approximation = .tanh
    case "quick_gelu": approximation = .quick
    case let other: throw .badConfig(path: path, reason: "hidden_act '\(other)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu)")
    }
    if let mean = floats(preprocessor?["image_mean"]), let std = floats(preprocessor?["image_std"]), mean.count == 3, std.count == 3 {
      c.mean = mean
      c.std = std
    } else {
      notes.append(normalisationNote)
    }
    guard let rows = r.shape(e + "position_embeddings")?[1], let side = squareSide(rows - c.prefixTokens) else {
      throw .inconsistent(path: path, reason: "\(e)position_embeddings must hold a square grid plus the class token")
    }
    c.positionGridWidth = side
    c.positionGridHeight = side
    if integer(config?["image_size"]) == nil {
      notes.append("input size inferred as \(c.imageWidth)x\(c.imageHeight) from position_embeddings (no config gives it)")
    }

    func linear(_ name: String, _ outputs: Int, _ inputs: Int) throws(CheckpointError) -> Linear {
      Linear(weight: try r.tensor(name + ".weight", [outputs, inputs]), bias: try r.optional(name + ".bias", [outputs]))
    }
    func namedNorm(_ name: String) throws(CheckpointError) -> LayerNorm {
      LayerNorm(weight: try r.tensor(name + ".weight", [d]), bias: try r.tensor(name + ".bias", [d]), eps: c.layerNormEps)
    }
    var blocks: [TransformerBlock] = []
    for i in 0..<depth {
      let l = prefix + "encoder.layer.\(i)."
      // timm's fused qkv is the three projections stacked: rows q, then k, then v.
      let parts = try ["query", "key", "value"].map { (n: String) throws(CheckpointError) -> Linear in try linear(l + "attention.attention." + n, d, d) }
      let qkvBias = parts.allSatisfy { $0.bias != nil } ? concat(parts.map { $0.bias! }, axis: 0) : nil
      let qkv = Linear(weight: concat(parts.map(\.weight), axis: 0), bias: qkvBias)
      blocks.append(TransformerBlock(
        norm1: try namedNorm(l + "layernorm_before"),
        attention: MultiHeadSelfAttention(qkv: qkv, projection: try linear(l + "attention.output.dense", d, d), headCount: c.headCount),
        layerScale1: nil,
        norm2: try namedNorm(l + "layernorm_after"),
        mlp: Mlp(fc1: try linear(l + "intermediate.dense", hidden, d), fc2: try linear(l + "output.dense", d, hidden), approximation: approximation),
        layerScale2: nil))
    }
    let model = VisionTransformer(
      configuration: c,
      patchEmbedding: PatchEmbedding(
        projection: Linear(weight: try r.tensor(e + "patch_embeddings.projection.weight", [d, 3 * p * p], storedAs: [d, 3, p, p]), bias: try r.optional(e + "patch_embeddings.projection.bias", [d])),
        patchSize: p),
      classToken: try r.optional(e + "cls_token", [1, d], storedAs: [1, 1, d]),
      registerTokens: nil,
      positionEmbedding: try r.tensor(e + "position_embeddings", [rows, d], storedAs: [1, rows, d]),
      preNorm: nil, blocks: blocks,
      norm: try namedNorm(prefix + "layernorm"), fcNorm: nil,
      head: c.classCount > 0 ? try linear("classifier", c.classCount, d) : nil)
    r.ignore { $0.hasPrefix(prefix + "pooler.") || $0 == e + "mask_token" }
    try r.checkAllUsed()
    return model
  }
}
