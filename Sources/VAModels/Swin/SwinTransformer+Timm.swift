import Foundation
import VALayers
import VATensorCore

extension SwinTransformer {
  /// timm's layout: `patch_embed.{proj,norm}`, `layers.{i}.downsample.{norm,reduction}` for
  /// `i ≥ 1` (timm v1 and v2 merge at the start of a stage), `layers.{i}.blocks.{j}.{norm1,
  /// attn.{qkv,proj,relative_position_bias_table | logit_scale,q_bias,v_bias,cpb_mlp.{0,2}},
  /// norm2,mlp.{fc1,fc2}}`, `norm`, `head.fc`. The architecture comes from `config.json`'s
  /// name (`SwinArchitecture.table`) and `model_args`; without a config, from the tensors for
  /// v1 (v2's window shows in no tensor and needs the config).
  static func loadTimm(_ reader: CheckpointReader, config: [String: Any]?, configPath: String) throws(CheckpointError) -> SwinTransformer {
    let path = reader.path
    let v2 = reader.has("layers.0.blocks.0.attn.logit_scale")
    var architecture: SwinArchitecture
    if let config {
      architecture = try SwinArchitecture(config: config, path: configPath)
      guard (architecture.version == 2) == v2 else {
        throw .inconsistent(path: path, reason: "the config names a Swin v\(architecture.version) but the tensors are v\(v2 ? 2 : 1)'s")
      }
    } else {
      guard !v2 else { throw .badConfig(path: configPath, reason: "a timm Swin v2 checkpoint needs its config.json (the window shows in no tensor)") }
      let stages = reader.indices(after: "layers.")
      let depths = (0..<stages).map { reader.indices(after: "layers.\($0).blocks.") }
      var heads: [Int] = [], windows: [Int] = []
      for i in 0..<stages {
        let table = "layers.\(i).blocks.0.attn.relative_position_bias_table"
        guard let shape = reader.shape(table), shape.count == 2, let side = VisionTransformer.squareSide(shape[0]) else {
          throw .missingTensor(path: path, name: table)
        }
        heads.append(shape[1])
        windows.append((side + 1) / 2)
      }
      architecture = SwinArchitecture(
        version: 1, embedDimension: reader.shape("patch_embed.proj.weight")?.first ?? 0, depths: depths, heads: heads, windows: windows,
        pretrainedWindows: [Int](repeating: 0, count: stages))
    }
    let eps: Float = 1e-5
    let d = architecture.embedDimension
    let embedding = try patchEmbedding(reader, conv: "patch_embed.proj", norm: "patch_embed.norm", width: d, eps: eps)
    var c = SwinConfiguration(
      version: v2 ? .v2 : .v1, patchSize: embedding.patchSize, embedDimension: d, depths: architecture.depths, heads: architecture.heads,
      windows: architecture.windows, pretrainedWindows: architecture.pretrainedWindows, windowPolicy: .timm)
    c.layerNormEps = eps
    if let pretrained = config?["pretrained_cfg"] as? [String: Any] {
      if let mean = floats(pretrained["mean"]), mean.count == 3 { c.mean = mean }
      if let std = floats(pretrained["std"]), std.count == 3 { c.std = std }
    }
    var stages: [[SwinBlock]] = [], merges: [SwinPatchMerging] = []
    for i in 0..<c.stageCount {
      let width = c.width(stage: i)
      if i > 0 {
        let m = "layers.\(i).downsample"
        merges.append(
          SwinPatchMerging(
            reduction: try reader.linear(m + ".reduction", width, 2 * width), norm: try reader.layerNorm(m + ".norm", width: v2 ? width : 2 * width, eps: eps),
            normAfter: v2))
      }
      guard reader.indices(after: "layers.\(i).blocks.") == c.depths[i] else {
        throw .inconsistent(path: path, reason: "stage \(i) has \(reader.indices(after: "layers.\(i).blocks.")) blocks, the architecture \(c.depths[i])")
      }
      var blocks: [SwinBlock] = []
      for j in 0..<c.depths[i] {
        let b = "layers.\(i).blocks.\(j)."
        let heads = c.heads[i]
        let attention: SwinWindowAttention
        let projection = try reader.linear(b + "attn.proj", width, width)
        if v2 {
          let qBias = try reader.optional(b + "attn.q_bias", [width]), vBias = try reader.optional(b + "attn.v_bias", [width])
          let bias = qBias.map { concat([$0, Tensor.zeros([width]), vBias ?? Tensor.zeros([width])], axis: 0) }
          let qkv = Linear(weight: try reader.tensor(b + "attn.qkv.weight", [3 * width, width]), bias: bias)
          let pretrained = c.pretrainedWindows[i]
          attention = SwinWindowAttention(
            qkv: qkv, projection: projection, headCount: heads,
            logitScale: try reader.tensor(b + "attn.logit_scale", [heads], storedAs: [heads, 1, 1]),
            cpbHidden: try reader.linear(b + "attn.cpb_mlp.0", 512, 2), cpbOutput: try reader.linear(b + "attn.cpb_mlp.2", heads, 512),
            pretrainedWindow: [pretrained, pretrained])
        } else {
          let w = c.windows[i]
          // The table is for the window timm builds at its own img_size; a checkpoint whose
          // table is another size is read as it is (the forward refuses a mismatched window).
          let rows = reader.shape(b + "attn.relative_position_bias_table")?.first ?? 0
          let side = VisionTransformer.squareSide(rows).map { ($0 + 1) / 2 } ?? w
          attention = SwinWindowAttention(
            qkv: try reader.linear(b + "attn.qkv", 3 * width, width), projection: projection, headCount: heads,
            biasTable: try reader.tensor(b + "attn.relative_position_bias_table", [(2 * side - 1) * (2 * side - 1), heads]), window: [side, side])
        }
        let hidden = c.mlpRatio * width
        blocks.append(
          SwinBlock(
            norm1: try reader.layerNorm(b + "norm1", width: width, eps: eps), attention: attention,
            norm2: try reader.layerNorm(b + "norm2", width: width, eps: eps),
            mlp: Mlp(fc1: try reader.linear(b + "mlp.fc1", hidden, width), fc2: try reader.linear(b + "mlp.fc2", width, hidden)), postNorm: v2))
      }
      stages.append(blocks)
    }
    let f = c.featureWidth
    let head: Linear? = reader.has("head.fc.weight") ? try reader.linear("head.fc", reader.shape("head.fc.weight")?.first ?? 0, f) : nil
    return SwinTransformer(
      configuration: c, patchEmbedding: embedding, stages: stages, merges: merges, norm: try reader.layerNorm("norm", width: f, eps: eps), head: head)
  }
}
