/// What a timm Swin architecture name implies (`swin_*` builds `SwinTransformer`, `swinv2_*`
/// `SwinTransformerV2`): read from the generated `table`, overlaid by a config's `model_args`.
/// Names of other classes (`swinv2_cr_*`) and arguments that change the computation in ways
/// this loader does not implement are refused by name.
struct SwinArchitecture: Sendable, Equatable {
  /// 1 for `SwinTransformer`, 2 for `SwinTransformerV2`.
  var version: Int
  /// `embed_dim`.
  var embedDimension: Int
  /// `depths`.
  var depths: [Int]
  /// `num_heads`.
  var heads: [Int]
  /// `window_size` per stage (square windows).
  var windows: [Int]
  /// v2's `pretrained_window_sizes`.
  var pretrainedWindows: [Int]
  /// `patch_size`.
  var patchSize = 4

  /// Arguments that only matter in training or that the tensors show.
  static let harmless: Set<String> = [
    "num_classes", "in_chans", "qkv_bias", "drop_rate", "proj_drop_rate", "attn_drop_rate", "drop_path_rate",
    "weight_init", "img_size", "embed_layer", "pretrained_strict",
  ]

  /// The architecture `config` names (timm's `config.json`), with its `model_args` applied.
  /// - Throws: `CheckpointError.badConfig` for a name not in the table or an argument that
  ///   changes the computation and is not implemented.
  init(config: [String: Any], path: String) throws(CheckpointError) {
    guard let raw = config["architecture"] as? String else { throw .badConfig(path: path, reason: "no architecture name") }
    let name = String(raw.split(separator: ".").first ?? "")
    if name.hasPrefix("swinv2_cr_") {
      throw .badConfig(path: path, reason: "\(name) is timm's SwinTransformerV2Cr, which this loader does not read (only SwinTransformer and SwinTransformerV2)")
    }
    guard let known = Self.table[name] else { throw .badConfig(path: path, reason: "\(name) is not a timm SwinTransformer or SwinTransformerV2 architecture") }
    self = known
    let args = config["model_args"] as? [String: Any] ?? [:]
    func list(_ key: String) throws(CheckpointError) -> [Int]? {
      guard let value = args[key] else { return nil }
      if let n = integer(value) { return [n] }
      guard let values = value as? [Any] else { throw .badConfig(path: path, reason: "model_args \(key) = \(value) is not a number or a list") }
      var out: [Int] = []
      for v in values {
        guard let n = integer(v) else { throw .badConfig(path: path, reason: "model_args \(key) = \(value): per-stage (h, w) windows are not read") }
        out.append(n)
      }
      return out
    }
    for key in args.keys.sorted() {
      switch key {
      case "embed_dim": embedDimension = integer(args[key]) ?? embedDimension
      case "patch_size": patchSize = integer(args[key]) ?? patchSize
      case "depths": depths = try list(key) ?? depths
      case "num_heads": heads = try list(key) ?? heads
      case "window_size":
        // resolve_stage_window_sizes: an int, or two ints as one (h, w) for every stage, or one per stage.
        let w = try list(key) ?? windows
        if w.count == 2 && args[key] is [Any] && w[0] != w[1] {
          throw .badConfig(path: path, reason: "model_args window_size = \(w) is a non-square window, which this loader does not read")
        }
        windows = w.count <= 2 && Set(w).count == 1 ? [Int](repeating: w[0], count: depths.count) : w
      case "pretrained_window_sizes": pretrainedWindows = try list(key) ?? pretrainedWindows
      case "mlp_ratio" where (args[key] as? Double) == 4 || integer(args[key]) == 4: break
      case "global_pool" where (args[key] as? String) == "avg": break
      // Windows and masks sized from img_size rather than the input: not what the forward does.
      case "dynamic_img_size" where (args[key] as? Bool) == false, "strict_img_size" where (args[key] as? Bool) == true: break
      case _ where Self.harmless.contains(key): break
      default: throw .badConfig(path: path, reason: "model_args \(key) = \(args[key] ?? "nil") changes the Swin computation and is not implemented")
      }
    }
    if let pool = config["global_pool"] as? String, pool != "avg" {
      throw .badConfig(path: path, reason: "global_pool \(pool) is not implemented (only avg)")
    }
    guard heads.count == depths.count, windows.count == depths.count else {
      throw .badConfig(path: path, reason: "depths \(depths), num_heads \(heads) and window_size \(windows) need one entry per stage")
    }
    if pretrainedWindows.count < depths.count { pretrainedWindows += [Int](repeating: 0, count: depths.count - pretrainedWindows.count) }
  }

  /// An architecture from its arguments (the generated table's rows, or what tensors show).
  init(version: Int, embedDimension: Int, depths: [Int], heads: [Int], windows: [Int], pretrainedWindows: [Int]) {
    self.version = version
    self.embedDimension = embedDimension
    self.depths = depths
    self.heads = heads
    self.windows = windows
    self.pretrainedWindows = pretrainedWindows
  }
}
