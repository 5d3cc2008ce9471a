import Foundation
import VALayers
import VATensorCore

extension SwinTransformer {
  /// transformers' layout (`SwinModel`, `SwinForImageClassification`, `Swinv2Model`,
  /// `Swinv2ForImageClassification`; prefix `swin.`, `swinv2.` or none): `embeddings.
  /// {patch_embeddings.projection,norm}`, `encoder.layers.{i}.blocks.{j}.{layernorm_before,
  /// attention.self.{query,key,value,relative_position_bias_table | logit_scale,
  /// continuous_position_bias_mlp.{0,2}},attention.output.dense,layernorm_after,
  /// intermediate.dense,output.dense}`, `encoder.layers.{i}.downsample.{reduction,norm}` for
  /// every stage but the last (transformers merges at the end of a stage), `layernorm`,
  /// `classifier`. transformers 4 and 5 both save these names (5 renames v1's attention to
  /// `q_proj`, `k_proj`, `v_proj`, `o_proj`, `relative_position_bias.*` and its MLP to `mlp.fc1`,
  /// `mlp.fc2` in memory only; those names are read too). v2's `layernorm_before` follows the
  /// attention and `layernorm_after` the MLP (res-post-norm), as timm's `norm1` and `norm2`.
  static func loadHuggingFace(
    _ reader: CheckpointReader, prefix: String, config: [String: Any]?, preprocessor: [String: Any]?, folder: String
  ) throws(CheckpointError) -> SwinTransformer {
    let path = reader.path, configPath = (folder as NSString).appendingPathComponent("config.json")
    guard let config else { throw .badConfig(path: configPath, reason: "a transformers Swin checkpoint needs its config.json (window size and heads)") }
    let type = config["model_type"] as? String
    guard type == "swin" || type == "swinv2" else {
      throw .badConfig(path: configPath, reason: "model_type \(type ?? "none") is not swin or swinv2")
    }
    let v2 = type == "swinv2"
    guard v2 == reader.has(prefix + "encoder.layers.0.blocks.0.attention.self.logit_scale") else {
      throw .inconsistent(path: path, reason: "config model_type \(type!) does not match the tensors")
    }
    func ints(_ key: String) throws(CheckpointError) -> [Int] {
      guard let values = config[key] as? [Any] else { throw .badConfig(path: configPath, reason: "\(key) missing or not a list") }
      let out = values.compactMap(integer)
      guard out.count == values.count else { throw .badConfig(path: configPath, reason: "\(key) = \(values) is not a list of integers") }
      return out
    }
    guard let d = integer(config["embed_dim"]), let window = integer(config["window_size"]) else {
      throw .badConfig(path: configPath, reason: "embed_dim or window_size missing")
    }
    if (config["use_absolute_embeddings"] as? Bool) == true {
      throw .badConfig(path: configPath, reason: "use_absolute_embeddings = true is not implemented")
    }
    if let act = config["hidden_act"] as? String, act != "gelu" { throw .badConfig(path: configPath, reason: "hidden_act \(act) is not implemented (only gelu)") }
    if let ratio = config["mlp_ratio"] as? Double, ratio != 4 { throw .badConfig(path: configPath, reason: "mlp_ratio \(ratio) is not implemented (only 4)") }
    let depths = try ints("depths"), heads = try ints("num_heads")
    guard heads.count == depths.count else { throw .badConfig(path: configPath, reason: "num_heads \(heads) for depths \(depths)") }
    let eps = (config["layer_norm_eps"] as? Double).map(Float.init) ?? 1e-5
    let e = prefix + "embeddings."
    let embedding = try patchEmbedding(reader, conv: e + "patch_embeddings.projection", norm: e + "norm", width: d, eps: eps)
    reader.ignore { $0 == e + "mask_token" }  // SwinForMaskedImageModeling's, unused in a forward pass
    // image_size may be [height, width]; Swinv2Layer sizes windows from the height.
    let imageSize = integer(config["image_size"]) ?? (config["image_size"] as? [Any])?.first.flatMap(integer) ?? 224
    var c = SwinConfiguration(
      version: v2 ? .v2 : .v1, patchSize: embedding.patchSize, embedDimension: d, depths: depths, heads: heads,
      windows: [Int](repeating: window, count: depths.count),
      pretrainedWindows: v2 ? (try? ints("pretrained_window_sizes")) : nil,
      windowPolicy: v2 ? .huggingFaceV2(imageSize: imageSize) : .huggingFace)
    c.layerNormEps = eps
    if let mean = floats(preprocessor?["image_mean"]), mean.count == 3 { c.mean = mean }
    if let std = floats(preprocessor?["image_std"]), std.count == 3 { c.std = std }
    var stages: [[SwinBlock]] = [], merges: [SwinPatchMerging] = []
    for i in 0..<c.stageCount {
      let width = c.width(stage: i), h = heads[i]
      let layer = prefix + "encoder.layers.\(i)."
      guard reader.indices(after: layer + "blocks.") == depths[i] else {
        throw .inconsistent(path: path, reason: "stage \(i) has \(reader.indices(after: layer + "blocks.")) blocks, the config \(depths[i])")
      }
      var blocks: [SwinBlock] = []
      for j in 0..<depths[i] {
        let b = layer + "blocks.\(j)."
        // transformers 5's in-memory names for v1, else the names both versions save.
        let renamed = reader.has(b + "attention.q_proj.weight")
        let s = b + (renamed ? "attention." : "attention.self.")
        let (q, k, v) = renamed ? ("q_proj", "k_proj", "v_proj") : ("query", "key", "value")
        let query = try reader.linear(s + q, width, width), key = try reader.linear(s + k, width, width), value = try reader.linear(s + v, width, width)
        let biases = [query.bias, key.bias, value.bias]
        let bias: Tensor? = biases.allSatisfy({ $0 == nil }) ? nil : concat(biases.map { $0 ?? Tensor.zeros([width]) }, axis: 0)
        let qkv = Linear(weight: concat([query.weight, key.weight, value.weight], axis: 0), bias: bias)
        let projection = try reader.linear(renamed ? b + "attention.o_proj" : b + "attention.output.dense", width, width)
        let attention: SwinWindowAttention
        if v2 {
          let pretrained = c.pretrainedWindows[i]
          attention = SwinWindowAttention(
            qkv: qkv, projection: projection, headCount: h, logitScale: try reader.tensor(s + "logit_scale", [h], storedAs: [h, 1, 1]),
            cpbHidden: try reader.linear(s + "continuous_position_bias_mlp.0", 512, 2),
            cpbOutput: try reader.linear(s + "continuous_position_bias_mlp.2", h, 512), pretrainedWindow: [pretrained, pretrained])
        } else {
          let table = renamed ? b + "attention.relative_position_bias.relative_position_bias_table" : s + "relative_position_bias_table"
          attention = SwinWindowAttention(
            qkv: qkv, projection: projection, headCount: h, biasTable: try reader.tensor(table, [(2 * window - 1) * (2 * window - 1), h]),
            window: [window, window])
        }
        let hidden = c.mlpRatio * width
        let mlpNames = reader.has(b + "mlp.fc1.weight") ? (b + "mlp.fc1", b + "mlp.fc2") : (b + "intermediate.dense", b + "output.dense")
        blocks.append(
          SwinBlock(
            norm1: try reader.layerNorm(b + "layernorm_before", width: width, eps: eps), attention: attention,
            norm2: try reader.layerNorm(b + "layernorm_after", width: width, eps: eps),
            mlp: Mlp(fc1: try reader.linear(mlpNames.0, hidden, width), fc2: try reader.linear(mlpNames.1, width, hidden)), postNorm: v2))
      }
      stages.append(blocks)
      if i + 1 < c.stageCount {
        let m = layer + "downsample."
        merges.append(
          SwinPatchMerging(
            reduction: try reader.linear(m + "reduction", 2 * width, 4 * width),
            norm: try reader.layerNorm(m + "norm", width: v2 ? 2 * width : 4 * width, eps: eps), normAfter: v2))
      }
    }
    let f = c.featureWidth
    let head: Linear? = reader.has("classifier.weight") ? try reader.linear("classifier", reader.shape("classifier.weight")?.first ?? 0, f) : nil
    return SwinTransformer(
      configuration: c, patchEmbedding: embedding, stages: stages, merges: merges,
      norm: try reader.layerNorm(prefix + "layernorm", width: f, eps: eps), head: head)
  }
}
