import Foundation
import VALayers
import VASafetensors
import VATensorCore

extension VisionTransformer {
  /// Saves the model in timm's layout: `folder/model.safetensors` (names and shapes as timm's
  /// `state_dict`: `cls_token` `[1, 1, D]`, `pos_embed` `[1, L, D]`, `patch_embed.proj.weight`
  /// `[D, 3, P, P]`) and `folder/config.json` (`pretrained_cfg` and `model_args`), so
  /// `timm.models.vision_transformer.VisionTransformer(**model_args)` loads it with
  /// `load_state_dict` (a fixed 2D sin-cos model loads in timm without its position table). Each file is written to a temporary name and renamed into place.
  /// - Throws: `CheckpointError.inconsistent` for variants timm's `VisionTransformer` cannot
  ///   express in `model_args` (distillation token, relative position bias, RoPE, an attention
  ///   pool with its own head count, SwiGLU, a non-exact GELU, RMSNorm, an embedding norm), rather than writing a checkpoint that loads as
  ///   something else, or for `labelNames` whose count is not the class count.
  /// - Parameter labelNames: class names in class-index order, written as `label_names` (the
  ///   key timm's hub configs use; `vit-attend` reads it); nil writes none.
  public func save(to folder: String, labelNames: [String]? = nil) throws {
    let c = configuration
    let gated = blocks.contains { $0.mlp.gate != nil || $0.mlp.hiddenNorm != nil || $0.attention.innerNorm != nil }
    // NaFlex's per-image table resizes and processor sizing have no place in timm's layout.
    let naflex = c.positionAspectPreserving || c.positionResampling == .bilinearAntialiased || c.maximumPatches != nil || c.fitSide != nil
    if c.distillationToken || c.positionPlacement == .classAndPatches || c.relativePositionBias || c.rotary != nil || (c.poolHeadCount ?? c.headCount) != c.headCount || c.activation != .exact || gated
      || c.normKind != .layer || c.embedNorm || naflex
    {
      throw CheckpointError.inconsistent(path: folder, reason: "only plain ViTs are saved (timm's VisionTransformer layout); this model has a variant it cannot express")
    }
    if let labelNames, labelNames.count != c.classCount {
      throw CheckpointError.inconsistent(path: folder, reason: "\(labelNames.count) label names for \(c.classCount) classes")
    }
    let d = c.embedDimension, p = c.patchSize
    var writer = SafetensorsWriter()
    writer.metadata = ["format": "pt", "written_by": "VisionAttention"]
    let stemProjection = convStem.map { "patch_embed.backbone.\($0.units.count).conv.weight" }
    for (name, tensor) in namedParameters + namedBuffers {
      let shape: [Int]
      switch name {
      case "cls_token", "reg_token", "pos_embed", "attn_pool.latent": shape = [1] + tensor.shape
      case "patch_embed.proj.weight": shape = [d, 3, p, p]
      case stemProjection: shape = tensor.shape + [1, 1]
      default: shape = tensor.shape
      }
      writer.add(name, shape: shape, values: tensor.scalars)
    }
    var visionAttentionConfig: [String: Any] = ["position_embedding": c.positionEmbedding.rawValue]
    if let stem = c.convStem {
      // timm builds the stem as ConvStem(channels, kernel_size, stride) inside
      // HybridEmbed(proj=False), whose patch size is 1 on the stem's feature map.
      visionAttentionConfig["conv_stem"] = [
        "channels": stem.hiddenChannels + [d], "kernel_size": stem.kernels + [1], "stride": stem.strides + [1],
        "norm_layer": "BatchNorm2d", "act_layer": "ReLU",
      ]
    }
    var args: [String: Any] = [
      "img_size": [c.imageHeight, c.imageWidth], "patch_size": c.convStem == nil ? p : 1, "embed_dim": d, "depth": c.depth,
      "num_heads": c.headCount, "mlp_ratio": Double(c.mlpHiddenDimension) / Double(d),
      "class_token": c.classToken, "reg_tokens": c.registerTokens, "no_embed_class": c.positionPlacement == .patchesOnly,
      "global_pool": Self.timmPoolNames[c.globalPool]!, "fc_norm": c.fcNorm, "pre_norm": c.preNorm,
      "num_classes": c.classCount, "dynamic_img_size": true,
      "pos_embed": c.positionEmbedding == .learned ? "learn" : "none",
    ]
    if c.layerScale, let gamma = blocks.first?.layerScale1?.gamma.scalars.first { args["init_values"] = Double(gamma) }
    var config: [String: Any] = [
      "architecture": "vit_custom", "num_classes": c.classCount, "num_features": d,
      "global_pool": args["global_pool"]!,
      "pretrained_cfg": ["input_size": [3, c.imageHeight, c.imageWidth], "mean": c.mean, "std": c.std, "interpolation": "bicubic"],
      "model_args": args,
      // timm has no fixed sin-cos table ("none" is the nearest it loads); this key, which
      // timm ignores, lets this toolkit restore the exact kind.
      "vision_attention": visionAttentionConfig,
    ]
    if let labelNames { config["label_names"] = labelNames }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    // .atomic writes a temporary file and renames it, so a crash leaves the old file or none.
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("model.safetensors")), options: .atomic)
    try json.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("config.json")), options: .atomic)
  }

  /// timm's `global_pool` values (its `AttentionPoolLatent` head, built with the blocks' heads
  /// and MLP ratio, is "map").
  static let timmPoolNames: [ViTConfiguration.GlobalPool: String] = [.token: "token", .average: "avg", .attention: "map"]
}
