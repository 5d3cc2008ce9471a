import Foundation
import VALayers
import VATensorCore

extension VisionTransformer {
  /// The vision tower of Hugging Face `CLIPModel` / `CLIPVisionModel` and `SiglipModel` /
  /// `SiglipVisionModel`: `[vision_model.]embeddings.{patch_embedding, class_embedding,
  /// position_embedding}`, `pre_layrnorm` (CLIP), `encoder.layers.{i}.{layer_norm1,
  /// self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2}`, `post_layernorm`, and
  /// SigLIP's attention-pooling `head` (`probe`, `attention.in_proj_*`, `out_proj`,
  /// `layernorm`, `mlp`). A full checkpoint's text tower and projections are skipped.
  /// SigLIP-2's NaFlex towers (`Siglip2Model` / `Siglip2VisionModel`, `model_type` `siglip2`,
  /// `siglip2_vision_model`) have the same names with a linear patch embedding and a position
  /// table resized to every image's grid (see `VisionTransformer+Siglip2.swift`); transformers 5
  /// saves a `Siglip2VisionModel` without the `vision_model.` prefix that 4.x hub files carry,
  /// and both are read.
  ///
  /// CLIP applies `post_layernorm` to the pooled class token only, SigLIP to every token.
  /// The activation and LayerNorm eps are in the config alone, so one is required.
  static func loadHuggingFaceTower(_ r: CheckpointReader, prefix: String, config fullConfig: [String: Any]?, preprocessor: [String: Any]?, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    guard let fullConfig else {
      throw .badConfig(path: path, reason: "CLIP/SigLIP vision weights without config.json: the activation (quick_gelu, gelu_pytorch_tanh) and LayerNorm eps are set only there")
    }
    let type = fullConfig["model_type"] as? String ?? ""
    let config = fullConfig["vision_config"] as? [String: Any] ?? fullConfig
    let siglip: Bool, naflex: Bool
    switch type {
    case "clip", "clip_vision_model": (siglip, naflex) = (false, false)
    case "siglip", "siglip_vision_model": (siglip, naflex) = (true, false)
    case "siglip2", "siglip2_vision_model": (siglip, naflex) = (true, true)
    default:
      throw .badConfig(
        path: path, reason: "model_type '\(type)' is not implemented for this layout (clip, clip_vision_model, siglip, siglip_vision_model, siglip2, siglip2_vision_model)")
    }
    let e = prefix + "embeddings."
    let (d, p) = naflex ? try siglip2PatchShape(r, embeddings: e, config: config) : try convPatchShape(r, embeddings: e)
    let depth = r.indices(after: prefix + "encoder.layers.")
    guard depth > 0 else { throw .missingTensor(path: path, name: prefix + "encoder.layers.0.self_attn.q_proj.weight") }
    let hidden = r.shape(prefix + "encoder.layers.0.mlp.fc1.weight")?.first ?? 4 * d
    var c = ViTConfiguration(
      patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: integer(config["num_attention_heads"]), override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: hidden)
    c.classToken = r.has(e + "class_embedding")
    c.preNorm = r.has(prefix + "pre_layrnorm.weight")
    // Siglip2VisionEmbeddings.resize_positional_embeddings: antialiased bilinear, every image.
    c.positionResampling = naflex ? .bilinearAntialiased : .huggingFace
    if naflex { c.maximumPatches = try siglip2MaximumPatches(preprocessor, patchSize: p, path: path, notes: &notes) }
    c.classCount = 0
    guard let eps = config["layer_norm_eps"] as? Double else {
      throw .badConfig(path: path, reason: "config.json gives no layer_norm_eps for the vision tower")
    }
    c.layerNormEps = Float(eps)
    switch config["hidden_act"] as? String ?? (siglip ? "gelu_pytorch_tanh" : "quick_gelu") {
    case "gelu": c.activation = .exact
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": c.activation = .tanh
    case "quick_gelu": c.activation = .quick
    case let other: throw .badConfig(path: path, reason: "hidden_act '\(other)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu)")
    }
    let hasHead = r.has(prefix + "head.probe")
    c.globalPool = siglip ? (hasHead ? .attention : .average) : .token
    if let mean = floats(preprocessor?["image_mean"]), let std = floats(preprocessor?["image_std"]), mean.count == 3, std.count == 3 {
      c.mean = mean
      c.std = std
    } else {
      notes.append(normalisationNote)
    }
    guard let rows = r.shape(e + "position_embedding.weight")?.first, let side = squareSide(rows - c.prefixTokens) else {
      throw .inconsistent(path: path, reason: "\(e)position_embedding.weight must hold a square grid plus \(c.prefixTokens) class token")
    }
    c.positionGridWidth = side
    c.positionGridHeight = side

    func namedNorm(_ name: String) throws(CheckpointError) -> LayerNorm { try r.layerNorm(name, width: d, eps: c.layerNormEps) }
    var blocks: [TransformerBlock] = []
    for i in 0..<depth {
      let l = prefix + "encoder.layers.\(i)."
      let parts = try ["q", "k", "v"].map { (n: String) throws(CheckpointError) -> Linear in try r.linear(l + "self_attn.\(n)_proj", d, d) }
      let qkvBias = parts.allSatisfy { $0.bias != nil } ? concat(parts.map { $0.bias! }, axis: 0) : nil
      blocks.append(
        TransformerBlock(
          norm1: try namedNorm(l + "layer_norm1"),
          attention: MultiHeadSelfAttention(qkv: Linear(weight: concat(parts.map(\.weight), axis: 0), bias: qkvBias), projection: try r.linear(l + "self_attn.out_proj", d, d), headCount: c.headCount),
          layerScale1: nil,
          norm2: try namedNorm(l + "layer_norm2"),
          mlp: Mlp(fc1: try r.linear(l + "mlp.fc1", hidden, d), fc2: try r.linear(l + "mlp.fc2", d, hidden), approximation: c.activation),
          layerScale2: nil))
    }
    let postNorm = try namedNorm(prefix + "post_layernorm")
    var model = VisionTransformer(
      configuration: c,
      patchEmbedding: PatchEmbedding(
        projection: Linear(
          weight: naflex ? try siglip2PatchWeight(r, embeddings: e, dimension: d, patchSize: p) : try r.tensor(e + "patch_embedding.weight", [d, 3 * p * p], storedAs: [d, 3, p, p]),
          bias: try r.optional(e + "patch_embedding.bias", [d])),
        patchSize: p),
      classToken: try r.optional(e + "class_embedding", [1, d], storedAs: [d]),
      registerTokens: nil,
      positionEmbedding: try r.tensor(e + "position_embedding.weight", [rows, d]),
      preNorm: c.preNorm ? try namedNorm(prefix + "pre_layrnorm") : nil, blocks: blocks,
      // CLIP's pooler normalises the class token only; SigLIP's last_hidden_state is normalised.
      norm: siglip ? postNorm : nil, fcNorm: siglip ? nil : postNorm,
      head: nil)
    if hasHead {
      let h = prefix + "head."
      // torch.nn.MultiheadAttention stores its fused projection as in_proj_weight / in_proj_bias.
      let inProjection = Linear(weight: try r.tensor(h + "attention.in_proj_weight", [3 * d, d]), bias: try r.optional(h + "attention.in_proj_bias", [3 * d]))
      let rows = inProjection.weight.chunked(3, axis: 0), biases = inProjection.bias?.chunked(3, axis: 0)
      let mlpHidden = r.shape(h + "mlp.fc1.weight")?.first ?? hidden
      model.attentionPool = AttentionPoolHead(
        latent: try r.tensor(h + "probe", [1, d], storedAs: [1, 1, d]),
        query: Linear(weight: rows[0], bias: biases?[0]),
        keyValue: Linear(weight: concat([rows[1], rows[2]], axis: 0), bias: biases.map { concat([$0[1], $0[2]], axis: 0) }),
        projection: try r.linear(h + "attention.out_proj", d, d),
        norm: try namedNorm(h + "layernorm"),
        mlp: Mlp(fc1: try r.linear(h + "mlp.fc1", mlpHidden, d), fc2: try r.linear(h + "mlp.fc2", d, mlpHidden), approximation: c.activation),
        headCount: c.headCount)
    }
    if prefix == "vision_model." {
      r.ignore { !$0.hasPrefix("vision_model.") }  // text tower, projections, logit scale and bias
    }
    r.ignore { $0 == e + "position_ids" }
    try r.checkAllUsed()
    return model
  }
}
