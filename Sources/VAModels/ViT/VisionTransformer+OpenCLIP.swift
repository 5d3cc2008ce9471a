import Foundation
import VALayers
import VATensorCore

extension VisionTransformer {
  /// open_clip's own layout (`open_clip_model.safetensors` with `open_clip_config.json`):
  /// `visual.{conv1, class_embedding, positional_embedding, ln_pre}`,
  /// `visual.transformer.resblocks.{i}.{ln_1, attn.in_proj_weight, attn.in_proj_bias,
  /// attn.out_proj, ls_1.gamma, ln_2, mlp.c_fc, mlp.c_proj, ls_2.gamma}`, `visual.ln_post`;
  /// the projection `visual.proj` and the text tower are skipped (no classifier).
  ///
  /// `model_cfg.quick_gelu` chooses the activation and `vision_cfg.head_width` the heads
  /// (`width / head_width`), so the config is required; `preprocess_cfg` gives mean and std.
  /// Other grids resample positions as open_clip's `resize_pos_embed` does (bicubic,
  /// antialiased: timm's convention).
  static func loadOpenCLIP(_ r: CheckpointReader, config: [String: Any]?, configPath: String, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    guard let config, let modelConfig = config["model_cfg"] as? [String: Any] else {
      throw .badConfig(path: path, reason: "open_clip weights need open_clip_config.json beside them (model_cfg gives quick_gelu and the head width)")
    }
    let vision = modelConfig["vision_cfg"] as? [String: Any] ?? [:]
    // Settings that change the computation and are not implemented here.
    let defaults: [String: String] = [
      "attentional_pool": "false", "no_ln_pre": "false", "pos_embed_type": "learnable", "pool_type": "tok", "block_type": "none",
      "qk_norm": "false", "scaled_cosine_attn": "false", "scale_heads": "false", "scale_attn_inner": "false", "scale_attn": "false",
      "scale_fc": "false", "timm_model_name": "none", "act_kwargs": "none",
    ]
    for (key, value) in vision {
      let rendered = value is NSNull ? "none" : TimmArchitecture.render(value)
      if let expected = defaults[key], rendered != expected, !(key == "pool_type" && rendered == "avg"), !(key == "no_ln_pre" && rendered == "true") {
        throw .badConfig(path: configPath, reason: "vision_cfg \(key) = \(rendered) is not implemented")
      }
      if key == "norm_kwargs", !(value is NSNull), let kwargs = value as? [String: Any], kwargs.keys.contains(where: { $0 != "eps" }) {
        throw .badConfig(path: configPath, reason: "vision_cfg norm_kwargs = \(rendered) is not implemented")
      }
    }
    let v = "visual."
    guard let projection = r.shape(v + "conv1.weight"), projection.count == 4, projection[1] == 3, projection[2] == projection[3] else {
      throw .inconsistent(path: path, reason: "visual.conv1.weight must be [D, 3, P, P]")
    }
    let d = projection[0], p = projection[2]
    let depth = r.indices(after: v + "transformer.resblocks.")
    guard depth > 0 else { throw .missingTensor(path: path, name: v + "transformer.resblocks.0.attn.in_proj_weight") }
    let hidden = r.shape(v + "transformer.resblocks.0.mlp.c_fc.weight")?.first ?? 4 * d
    let headWidth = integer(vision["head_width"]) ?? 64
    var c = ViTConfiguration(
      patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: d / headWidth, override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: hidden)
    c.classToken = true
    c.preNorm = r.has(v + "ln_pre.weight")
    c.layerScale = r.has(v + "transformer.resblocks.0.ls_1.gamma")
    c.positionResampling = .timm
    c.classCount = 0
    let pool = vision["pool_type"] as? String ?? "tok"
    c.globalPool = pool == "avg" ? .average : .token
    c.activation = modelConfig["quick_gelu"] as? Bool == true ? .quick : .exact
    c.layerNormEps = ((vision["norm_kwargs"] as? [String: Any])?["eps"] as? Double).map(Float.init) ?? 1e-5
    let preprocess = config["preprocess_cfg"] as? [String: Any]
    if let mean = floats(preprocess?["mean"]), let std = floats(preprocess?["std"]), mean.count == 3, std.count == 3 {
      c.mean = mean
      c.std = std
    } else {
      // open_clip's own default is OpenAI's CLIP normalisation, but a config without it is a guess all the same.
      c.mean = [0.48145466, 0.4578275, 0.40821073]
      c.std = [0.26862954, 0.26130258, 0.27577711]
      notes.append("normalisation inferred as OpenAI CLIP's mean and std, open_clip's default (preprocess_cfg gives none; --mean and --std set it)")
    }
    guard let rows = r.shape(v + "positional_embedding")?.first, let side = squareSide(rows - 1) else {
      throw .inconsistent(path: path, reason: "visual.positional_embedding must hold a square grid plus the class token")
    }
    c.positionGridWidth = side
    c.positionGridHeight = side

    func namedNorm(_ name: String) throws(CheckpointError) -> LayerNorm { try r.layerNorm(name, width: d, eps: c.layerNormEps) }
    var blocks: [TransformerBlock] = []
    for i in 0..<depth {
      let b = v + "transformer.resblocks.\(i)."
      // nn.MultiheadAttention's fused in_proj is timm's qkv layout: rows q, k, v.
      let qkv = Linear(weight: try r.tensor(b + "attn.in_proj_weight", [3 * d, d]), bias: try r.optional(b + "attn.in_proj_bias", [3 * d]))
      blocks.append(
        TransformerBlock(
          norm1: try namedNorm(b + "ln_1"),
          attention: MultiHeadSelfAttention(qkv: qkv, projection: try r.linear(b + "attn.out_proj", d, d), headCount: c.headCount),
          layerScale1: c.layerScale ? LayerScale(gamma: try r.tensor(b + "ls_1.gamma", [d])) : nil,
          norm2: try namedNorm(b + "ln_2"),
          mlp: Mlp(fc1: try r.linear(b + "mlp.c_fc", hidden, d), fc2: try r.linear(b + "mlp.c_proj", d, hidden), approximation: c.activation),
          layerScale2: c.layerScale ? LayerScale(gamma: try r.tensor(b + "ls_2.gamma", [d])) : nil))
    }
    let finalAfterPool = vision["final_ln_after_pool"] as? Bool == true
    let post = try namedNorm(v + "ln_post")
    let model = VisionTransformer(
      configuration: c,
      patchEmbedding: PatchEmbedding(
        projection: Linear(weight: try r.tensor(v + "conv1.weight", [d, 3 * p * p], storedAs: [d, 3, p, p]), bias: try r.optional(v + "conv1.bias", [d])),
        patchSize: p),
      classToken: try r.tensor(v + "class_embedding", [1, d], storedAs: [d]),
      registerTokens: nil,
      positionEmbedding: try r.tensor(v + "positional_embedding", [rows, d]),
      preNorm: c.preNorm ? try namedNorm(v + "ln_pre") : nil, blocks: blocks,
      norm: finalAfterPool ? nil : post, fcNorm: finalAfterPool ? post : nil,
      head: nil)
    r.ignore { !$0.hasPrefix(v) || $0 == v + "proj" }
    try r.checkAllUsed()
    return model
  }
}
