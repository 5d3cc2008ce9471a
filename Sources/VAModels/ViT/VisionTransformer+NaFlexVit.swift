import Foundation
import VALayers
import VATensorCore

extension VisionTransformer {
  /// timm's `NaFlexVit` (`naflexvit_*`, timm 1.0.31) as its `state_dict` saves it:
  /// `embeds.proj` a Linear over flattened channels-last patches `[D, P·P·3]`,
  /// `embeds.pos_embed` `[1, h, w, D]` (patches only, resized to each image's grid by
  /// `F.interpolate(antialias=True)`), `embeds.cls_token` / `embeds.reg_token` before the
  /// patches, timm `Block`s with LayerScale, `norm` or `fc_norm`, `attn_pool` (MAP) and `head`.
  /// The image path is timm's for a `[B, C, H, W]` input (`batch_patchify`, no padding mask):
  /// H and W multiples of the patch size. The config must name the architecture: its
  /// patch size and the table's interpolation are in no tensor.
  static func loadTimmNaFlex(_ r: CheckpointReader, config: [String: Any]?, overrides: CheckpointOverrides, notes: inout [String]) throws(CheckpointError) -> VisionTransformer {
    let path = r.path
    let architecture = try TimmArchitecture(config: config, path: path)
    guard architecture.modelClass == "NaFlexVit", let p = architecture.patchSize, let resampling = architecture.positionResampling else {
      throw .badConfig(path: path, reason: "NaFlexVit weights (embeds.proj) need a timm config.json naming a naflexvit_* architecture: the patch size and the position table's interpolation are in no tensor")
    }
    guard let projection = r.shape("embeds.proj.weight"), projection.count == 2, projection[1] == 3 * p * p else {
      throw .inconsistent(path: path, reason: "embeds.proj.weight must be [D, \(3 * p * p)] for patch size \(p), got \(r.shape("embeds.proj.weight") ?? [])")
    }
    let d = projection[0]
    guard let table = r.shape("embeds.pos_embed"), table.count == 4, table[0] == 1, table[3] == d else {
      throw .inconsistent(path: path, reason: "embeds.pos_embed must be [1, h, w, \(d)], got \(r.shape("embeds.pos_embed") ?? [])")
    }
    let depth = r.indices(after: "blocks.")
    guard depth > 0 else { throw .missingTensor(path: path, name: "blocks.0.attn.qkv.weight") }
    var c = ViTConfiguration(
      patchSize: p, embedDimension: d, depth: depth,
      headCount: try heads(configured: architecture.headCount, override: overrides.headCount, dimension: d, path: path, notes: &notes),
      mlpHiddenDimension: r.shape("blocks.0.mlp.fc2.weight")?.last ?? 4 * d)
    r.aliases = ["cls_token": "embeds.cls_token", "reg_token": "embeds.reg_token"]
    c.classToken = r.has("cls_token")
    c.registerTokens = r.shape("reg_token")?[1] ?? 0
    c.layerScale = r.has("blocks.0.ls1.gamma")
    c.fcNorm = r.has("fc_norm.weight")
    c.classCount = r.shape("head.weight")?.first ?? 0
    c.activation = architecture.activation
    if let eps = architecture.layerNormEps { c.layerNormEps = eps }
    // NaFlexEmbeds adds the table to the patches, then puts the class and register tokens first.
    c.positionPlacement = .patchesOnly
    c.positionResampling = resampling
    c.positionAspectPreserving = architecture.positionAspectPreserving
    (c.positionGridHeight, c.positionGridWidth) = (table[1], table[2])
    switch architecture.globalPool {
    case "token": c.globalPool = .token
    case "avg": c.globalPool = .average
    default: c.globalPool = .attention
    }
    if c.globalPool == .attention { c.poolHeadCount = architecture.poolHeadCount ?? c.headCount }
    let pretrained = config?["pretrained_cfg"] as? [String: Any] ?? [:]
    if let size = floats(pretrained["input_size"]), size.count == 3 {
      c.fitSide = Int(max(size[1], size[2]))
    } else {
      notes.append("input size inferred as \(c.imageWidth)x\(c.imageHeight) from embeds.pos_embed (no pretrained_cfg input_size)")
    }
    if let mean = floats(pretrained["mean"]), let std = floats(pretrained["std"]), mean.count == 3, std.count == 3 {
      (c.mean, c.std) = (mean, std)
    } else {
      notes.append(normalisationNote)
    }
    // batch_patchify's default flattens each patch channels-last (row, column, channel).
    let weight = try r.tensor("embeds.proj.weight", [d, 3 * p * p]).reshaped([d, p, p, 3]).permuted([0, 3, 1, 2]).reshaped([d, 3 * p * p])
    let patchEmbedding = PatchEmbedding(projection: Linear(weight: weight, bias: try r.optional("embeds.proj.bias", [d])), patchSize: p)
    let positions = try r.tensor("embeds.pos_embed", [table[1] * table[2], d], storedAs: table)
    // The blocks, norms and heads have timm's VisionTransformer names; the table was read above.
    var bare = c
    bare.positionEmbedding = .none
    var model = try VisionTransformer(timm: r, configuration: bare, patchEmbedding: patchEmbedding)
    model.configuration = c
    model.positionEmbedding = positions
    return model
  }
}
