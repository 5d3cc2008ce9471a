import Foundation
import VALayers
import VATensorCore

/// Hugging Face `DINOv3ViTModel` (transformers 5.25, `model_type: dinov3_vit`): a class token
/// and `embeddings.register_tokens`, no position table, DINOv3's rotary embedding on the patch
/// tokens' queries and keys, `layer.{i}.{norm1, attention.{q,k,v,o}_proj, layer_scale1.lambda1,
/// norm2, mlp.{up,down}_proj [+ gate_proj], layer_scale2.lambda1}`, and `norm` on every token.
///
/// Checkpoints on the hub (transformers 4.56) and those transformers 5 writes name the blocks
/// `layer.{i}`; transformers 5's in-memory `state_dict()` names them `model.layer.{i}` (its
/// `conversion_mapping` renames one to the other on load), so both are read.
extension VisionTransformer {
  /// Whether `r` holds `DINOv3ViTModel` weights (its patch projection is a bare `Conv2d`).
  static func isHuggingFaceDINOv3(_ r: CheckpointReader) -> Bool {
    r.has("embeddings.patch_embeddings.weight") && (r.has("layer.0.attention.q_proj.weight") || r.has("model.layer.0.attention.q_proj.weight"))
  }

  /// Loads `DINOv3ViTModel` weights. The rotary base (`rope_theta`), the heads, the activation
  /// and the LayerNorm eps are in `config.json` alone, so one is required. The output's
  /// `tokens` are `last_hidden_state`, `pooled` is `pooler_output` (the class token).
  static func loadHuggingFaceDINOv3(_ r: CheckpointReader, config: [String: Any]?, preprocessor: [String: Any]?, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    guard let config else {
      throw .badConfig(path: path, reason: "DINOv3ViTModel weights without config.json: rope_theta, num_attention_heads, hidden_act and layer_norm_eps are set only there")
    }
    if let type = config["model_type"] as? String, type != "dinov3_vit" {
      throw .badConfig(path: path, reason: "model_type '\(type)' is not implemented for this layout (DINOv3ViTModel weights, model_type dinov3_vit)")
    }
    let e = "embeddings."
    guard let projection = r.shape(e + "patch_embeddings.weight"), projection.count == 4, projection[1] == 3, projection[2] == projection[3] else {
      throw .inconsistent(path: path, reason: "\(e)patch_embeddings.weight must be [D, 3, P, P]")
    }
    let d = projection[0], p = projection[2]
    let layers = r.has("layer.0.norm1.weight") ? "layer." : "model.layer."
    let depth = r.indices(after: layers)
    let gated = r.has(layers + "0.mlp.gate_proj.weight")
    if let flag = config["use_gated_mlp"] as? Bool, flag != gated {
      throw .inconsistent(path: path, reason: "config says use_gated_mlp = \(flag) but \(layers)0.mlp.gate_proj is \(gated ? "present" : "absent")")
    }
    let hidden = r.shape(layers + "0.mlp.up_proj.weight")?.first ?? 4 * d
    var c = ViTConfiguration(
      patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: integer(config["num_attention_heads"]), override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: hidden)
    c.classToken = true
    c.registerTokens = r.shape(e + "register_tokens")?[1] ?? 0
    c.positionEmbedding = .none
    c.layerScale = r.has(layers + "0.layer_scale1.lambda1")
    c.globalPool = .token
    c.classCount = 0
    c.layerNormEps = (config["layer_norm_eps"] as? Double).map(Float.init) ?? 1e-5
    // pos_embed_shift / jitter / rescale augment the coordinates in training only.
    let theta = config["rope_theta"].map { ($0 as? Double).map(Float.init) } ?? 100
    guard let theta else { throw .badConfig(path: path, reason: "rope_theta = \(config["rope_theta"]!) is not a number") }
    c.rotary = RotaryPositions.dinov3(temperature: theta, huggingFace: true)
    // The SwiGLU form of Mlp gates with SiLU; the plain form takes a GELU.
    switch (config["hidden_act"] as? String ?? "gelu", gated) {
    case ("gelu", false): c.activation = .exact
    case ("gelu_new", false), ("gelu_pytorch_tanh", false), ("gelu_fast", false): c.activation = .tanh
    case ("silu", true): break
    case (let other, _):
      throw .badConfig(path: path, reason: "hidden_act '\(other)' is not supported with use_gated_mlp = \(gated) (gelu, gelu_pytorch_tanh for the plain MLP, silu for the gated one)")
    }
    if let mean = floats(preprocessor?["image_mean"]), let std = floats(preprocessor?["image_std"]), mean.count == 3, std.count == 3 {
      c.mean = mean
      c.std = std
    } else {
      notes.append(normalisationNote)
    }
    // No position table: image_size (a side or [height, width], 224 by default) is only the default input size.
    let sides = (config["image_size"] as? [Any])?.compactMap { integer($0) } ?? integer(config["image_size"] ?? 224).map { [$0, $0] }
    guard let sides, sides.count == 2 else { throw .badConfig(path: path, reason: "image_size = \(config["image_size"] ?? "none") is not a side or [height, width]") }
    c.positionGridHeight = sides[0] / p
    c.positionGridWidth = sides[1] / p

    func namedNorm(_ name: String) throws(CheckpointError) -> LayerNorm { try r.layerNorm(name, width: d, eps: c.layerNormEps) }
    var blocks: [TransformerBlock] = []
    for i in 0..<depth {
      let l = layers + "\(i)."
      // timm's fused qkv is the three projections stacked (rows q, k, v); a missing bias is zero.
      let parts = try ["q", "k", "v"].map { (n: String) throws(CheckpointError) -> Linear in try r.linear(l + "attention.\(n)_proj", d, d) }
      let zeros = Tensor(shape: [d], scalars: [Float](repeating: 0, count: d))
      let qkvBias = parts.allSatisfy { $0.bias == nil } ? nil : concat(parts.map { $0.bias ?? zeros }, axis: 0)
      let qkv = Linear(weight: concat(parts.map(\.weight), axis: 0), bias: qkvBias)
      let up = try r.linear(l + "mlp.up_proj", hidden, d), down = try r.linear(l + "mlp.down_proj", d, hidden)
      let mlp = gated ? Mlp(fc1: up, fc2: down, gate: try r.linear(l + "mlp.gate_proj", hidden, d)) : Mlp(fc1: up, fc2: down, approximation: c.activation)
      blocks.append(
        TransformerBlock(
          norm1: try namedNorm(l + "norm1"),
          attention: MultiHeadSelfAttention(qkv: qkv, projection: try r.linear(l + "attention.o_proj", d, d), headCount: c.headCount),
          layerScale1: c.layerScale ? LayerScale(gamma: try r.tensor(l + "layer_scale1.lambda1", [d])) : nil,
          norm2: try namedNorm(l + "norm2"),
          mlp: mlp,
          layerScale2: c.layerScale ? LayerScale(gamma: try r.tensor(l + "layer_scale2.lambda1", [d])) : nil))
    }
    let model = VisionTransformer(
      configuration: c,
      patchEmbedding: PatchEmbedding(
        projection: Linear(weight: try r.tensor(e + "patch_embeddings.weight", [d, 3 * p * p], storedAs: [d, 3, p, p]), bias: try r.optional(e + "patch_embeddings.bias", [d])),
        patchSize: p),
      classToken: try r.tensor(e + "cls_token", [1, d], storedAs: [1, 1, d]),
      registerTokens: c.registerTokens > 0 ? try r.tensor(e + "register_tokens", [c.registerTokens, d], storedAs: [1, c.registerTokens, d]) : nil,
      positionEmbedding: nil,
      preNorm: nil, blocks: blocks,
      norm: try namedNorm("norm"), fcNorm: nil,
      head: nil)
    // The mask token serves masked pretraining only; a saved rotary buffer (non-persistent in
    // transformers, which recomputes it) is recomputed here the same way.
    r.ignore { $0 == e + "mask_token" || $0.hasPrefix("rope_embeddings.") }
    try r.checkAllUsed()
    return model
  }
}
