import Foundation
import VALayers
import VATensorCore

extension VisionTransformer {
  /// timm layout; `config` is timm's `config.json` (`architecture`, `pretrained_cfg`,
  /// `model_args`), read through `TimmArchitecture` so names and arguments that change the
  /// computation are implemented or refused.
  static func loadTimm(_ r: CheckpointReader, config: [String: Any]?, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    let stem = r.has(convStemMarker) ? try timmConvStem(r, config: config) : nil
    let d: Int, p: Int
    if let stem {
      (d, p) = (stem.projection.projection.outputs, stem.shape.totalStride)
    } else {
      guard let projection = r.shape("patch_embed.proj.weight"), projection.count == 4, projection[1] == 3, projection[2] == projection[3] else {
        throw .inconsistent(path: path, reason: "patch_embed.proj.weight must be [D, 3, P, P], got \(r.shape("patch_embed.proj.weight") ?? [])")
      }
      (d, p) = (projection[0], projection[2])
    }
    let architecture = try TimmArchitecture(config: config, path: path)
    let pretrained = config?["pretrained_cfg"] as? [String: Any] ?? [:]
    let depth = r.indices(after: "blocks.")
    guard depth > 0 else { throw .missingTensor(path: path, name: "blocks.0.attn.qkv.weight") }
    let hidden = r.shape("blocks.0.mlp.fc2.weight")?.last ?? 4 * d
    var c = ViTConfiguration(
      patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: architecture.headCount, override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: hidden)
    c.classToken = r.has("cls_token")
    if let flag = architecture.classToken, flag != c.classToken {
      throw .inconsistent(path: path, reason: "config says class_token = \(flag) but cls_token is \(c.classToken ? "present" : "absent")")
    }
    c.distillationToken = r.has("dist_token")
    guard c.distillationToken == (architecture.modelClass == "VisionTransformerDistilled") || architecture.modelClass == nil else {
      throw .inconsistent(path: path, reason: "dist_token is \(c.distillationToken ? "present" : "absent") but the architecture is \(architecture.name ?? "")")
    }
    c.registerTokens = r.shape("reg_token")?[1] ?? 0
    c.layerScale = r.has("blocks.0.ls1.gamma") || r.has("blocks.0.gamma_1")
    c.relativePositionBias = r.has("blocks.0.attn.relative_position_bias_table") || r.has("rel_pos_bias.relative_position_bias_table")
    c.preNorm = r.has("norm_pre.weight")
    c.fcNorm = r.has("fc_norm.weight")
    c.classCount = r.shape("head.weight")?.first ?? 0
    c.activation = architecture.activation
    c.rotary = architecture.rotary
    let gated = r.has("blocks.0.mlp.fc1_g.weight") || r.shape("blocks.0.mlp.fc1.weight")?.first == 2 * hidden
    if gated, architecture.modelClass == nil, config?["architecture"] == nil || architecture.rotary == nil {
      // EVA-style weights: their rotary position settings are in no tensor.
      throw .badConfig(path: path, reason: "SwiGLU MLP weights (an EVA-style model) without a timm config naming the architecture: its rotary position embedding cannot be inferred; put its config.json beside the weights")
    }
    r.ignore { $0.hasPrefix("rope.") }
    if let eps = architecture.layerNormEps { c.layerNormEps = eps }
    c.normKind = architecture.normKind
    c.embedNorm = architecture.embedNorm
    if c.normKind == .rms, r.has("blocks.0.norm1.bias") {
      throw .inconsistent(path: path, reason: "model_args norm_layer = \(architecture.arguments["norm_layer"] ?? "") is timm's RmsNorm, which has no bias, but blocks.0.norm1.bias is present")
    }
    switch architecture.globalPool {
    case "token": c.globalPool = .token
    case "avg": c.globalPool = .average
    case "map": c.globalPool = .attention
    default:
      if r.has("attn_pool.latent") { c.globalPool = .attention } else { c.globalPool = c.fcNorm || !c.classToken ? .average : .token }
    }
    if c.globalPool == .attention {
      guard r.has("attn_pool.latent") else { throw .missingTensor(path: path, name: "attn_pool.latent") }
      c.poolHeadCount = architecture.poolHeadCount ?? c.headCount
      // Eva's pool() hands every token to attn_pool; VisionTransformer's drops the prefix first.
      c.poolIncludesPrefix = architecture.modelClass == "Eva"
    }
    if c.globalPool == .token, !c.classToken {
      throw .inconsistent(path: path, reason: "global_pool 'token' needs a class token, and there is no cls_token")
    }
    if let mean = floats(pretrained["mean"]), let std = floats(pretrained["std"]), mean.count == 3, std.count == 3 {
      c.mean = mean
      c.std = std
    } else {
      notes.append(normalisationNote)
    }
    if let rows = r.shape("pos_embed")?[1] {
      c.positionEmbedding = .learned
      try placePositions(&c, rows: rows, architecture: architecture, pretrained: pretrained, path: path, notes: &notes)
    } else {
      let saved = (config?["vision_attention"] as? [String: Any])?["position_embedding"] as? String
      c.positionEmbedding = saved == ViTConfiguration.PositionEmbeddingKind.sinCos2D.rawValue ? .sinCos2D : .none
      if let size = architecture.imageSize {
        c.positionGridHeight = size.height / p
        c.positionGridWidth = size.width / p
      } else if let size = floats(pretrained["input_size"]), size.count == 3 {
        c.positionGridHeight = Int(size[1]) / p
        c.positionGridWidth = Int(size[2]) / p
      } else {
        notes.append("input size inferred as \(c.imageWidth)x\(c.imageHeight) (no config gives it)")
      }
    }
    c.convStem = stem?.shape
    var model = try VisionTransformer(timm: r, configuration: c, patchEmbedding: stem?.projection)
    model.convStem = stem?.stem
    return model
  }

  /// Chooses the placement and trained grid of `rows` learned embeddings: from
  /// `no_embed_class` and `img_size` when the config has them, else whichever of "prefix
  /// included" and "patches only" gives a square grid.
  private static func placePositions(_ c: inout ViTConfiguration, rows: Int, architecture: TimmArchitecture, pretrained: [String: Any], path: String, notes: inout [String]) throws(CheckpointError) {
    var size: (Int, Int)? = architecture.imageSize
    if size == nil, let input = floats(pretrained["input_size"]), input.count == 3 { size = (Int(input[1]), Int(input[2])) }
    if let flag = architecture.noEmbedClass { c.positionPlacement = flag ? .patchesOnly : .includingPrefix } else if c.prefixTokens > 0, squareSide(rows - c.prefixTokens) == nil, squareSide(rows) != nil { c.positionPlacement = .patchesOnly }
    let patches = rows - c.positionPrefixRows
    if let (h, w) = size, (h / c.patchSize) * (w / c.patchSize) == patches {
      c.positionGridHeight = h / c.patchSize
      c.positionGridWidth = w / c.patchSize
    } else if let side = squareSide(patches) {
      c.positionGridHeight = side
      c.positionGridWidth = side
      notes.append("input size inferred as \(c.imageWidth)x\(c.imageHeight) from pos_embed's \(rows) rows (no config gives it)")
    } else {
      throw .inconsistent(path: path, reason: "pos_embed has \(rows) rows, which is no square grid plus \(c.prefixTokens) prefix tokens; give img_size in config.json")
    }
  }

  /// Builds the model from timm-named tensors, checking every shape.
  /// `patchEmbedding`, when given (a conv stem's projection), replaces `patch_embed.proj`.
  init(timm r: CheckpointReader, configuration c: ViTConfiguration, patchEmbedding given: PatchEmbedding? = nil) throws(CheckpointError) {
    let d = c.embedDimension, p = c.patchSize
    func namedNorm(_ name: String) throws(CheckpointError) -> LayerNorm { try r.layerNorm(name, width: d, eps: c.layerNormEps, kind: c.normKind) }
    func optionalNorm(_ name: String) throws(CheckpointError) -> LayerNorm? { r.has(name + ".weight") ? try namedNorm(name) : nil }
    configuration = c
    if let given {
      patchEmbedding = given
    } else {
      patchEmbedding = PatchEmbedding(
        projection: Linear(weight: try r.tensor("patch_embed.proj.weight", [d, 3 * p * p], storedAs: [d, 3, p, p]), bias: try r.optional("patch_embed.proj.bias", [d])),
        patchSize: p, norm: c.embedNorm ? try namedNorm("patch_embed.norm") : nil)
    }
    classToken = try r.optional("cls_token", [1, d], storedAs: [1, 1, d])
    distillationToken = try r.optional("dist_token", [1, d], storedAs: [1, 1, d])
    registerTokens = c.registerTokens > 0 ? try r.tensor("reg_token", [c.registerTokens, d], storedAs: [1, c.registerTokens, d]) : nil
    positionEmbedding = c.positionEmbedding == .learned ? try r.tensor("pos_embed", [c.positionEmbeddingRows, d], storedAs: [1, c.positionEmbeddingRows, d]) : nil
    preNorm = try optionalNorm("norm_pre")
    relativePositionBiases = try VisionTransformer.beitRelativePositionBiases(r, configuration: c)
    var blocks: [TransformerBlock] = []
    for i in 0..<c.depth {
      let b = "blocks.\(i)"
      var qkv: Linear
      if let separate = try VisionTransformer.separateQKV(r, block: b, dimension: d) { qkv = separate } else { qkv = try r.linear(b + ".attn.qkv", 3 * d, d) }
      if let bias = try VisionTransformer.beitQKVBias(r, block: b, dimension: d) { qkv.bias = bias }
      var attention = MultiHeadSelfAttention(qkv: qkv, projection: try r.linear(b + ".attn.proj", d, d), headCount: c.headCount)
      attention.innerNorm = try optionalNorm(b + ".attn.norm")
      let gammas = c.layerScale && r.has(b + ".gamma_1") ? (b + ".gamma_1", b + ".gamma_2") : (b + ".ls1.gamma", b + ".ls2.gamma")
      blocks.append(
        TransformerBlock(
          norm1: try namedNorm(b + ".norm1"),
          attention: attention,
          layerScale1: c.layerScale ? LayerScale(gamma: try r.tensor(gammas.0, [d])) : nil,
          norm2: try namedNorm(b + ".norm2"),
          mlp: try VisionTransformer.timmMlp(r, block: b, configuration: c),
          layerScale2: c.layerScale ? LayerScale(gamma: try r.tensor(gammas.1, [d])) : nil))
    }
    self.blocks = blocks
    self.norm = try optionalNorm("norm")
    fcNorm = try optionalNorm("fc_norm")
    head = c.classCount > 0 ? try r.linear("head", c.classCount, d) : nil
    headDistillation = c.distillationToken && c.classCount > 0 ? try r.linear("head_dist", c.classCount, d) : nil
    attentionPool = c.globalPool == .attention ? try VisionTransformer.timmAttentionPool(r, configuration: c) : nil
    rotaryFrequencies = try VisionTransformer.timmRotaryFrequencies(r, configuration: c)
    try r.checkAllUsed()
  }
}
