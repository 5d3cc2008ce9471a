import VALayers

extension TimmArchitecture {
  /// Reads one of NaFlexVit's `NaFlexVitCfg` fields (timm 1.0.31's `naflexvit.py`), returning
  /// false for a key the common reader handles (heads, activation, pooling, tokens).
  /// Implemented: the learned position table resized to each image's grid by `F.interpolate`
  /// (`bicubic` or `bilinear`, `antialias=True`, `align_corners=False`), also aspect-preserving
  /// (`*_par_*`), and the linear patch embedding over channels-last patches. Refused by name:
  /// factorized tables (`*_parfac_*`), RADIO's plain or corner-aligned resizes,
  /// grid sampling, rope, embedding norms and a patch-size interpolator.
  mutating func readNaFlex(_ key: String, _ value: String, path: String, raw: String?) throws(CheckpointError) -> Bool {
    func refuse() -> CheckpointError { .badConfig(path: path, reason: "model_args \(key) = \(value) is not implemented (architecture \(raw ?? "unnamed"))") }
    switch key {
    case "patch_size":
      let sides = value.split(separator: ",").compactMap { Int($0) }
      guard let p = sides.first, sides.allSatisfy({ $0 == p }), p > 0 else { throw refuse() }
      patchSize = p
    case "pos_embed":
      guard value == "learned" else { throw refuse() }
    case "pos_embed_interp_mode":
      switch value {
      case "bicubic": positionResampling = .timm
      case "bilinear": positionResampling = .bilinearAntialiased
      default: throw refuse()
      }
    case "pos_embed_antialias", "patchify_channels_last":
      guard value == "true" else { throw refuse() }
    case "pos_embed_ar_preserving":
      guard let flag = Bool(value) else { throw refuse() }
      positionAspectPreserving = flag
    case "pos_embed_align_corners", "pos_embed_use_grid_sample", "enable_patch_interpolator", "attn_gated", "swiglu_mlp":
      guard value == "false" else { throw refuse() }
    case "embed_proj_type":
      guard value == "linear" else { throw refuse() }
    case "rope_type":
      guard value == "" || value == "none" else { throw refuse() }
    case "input_norm_layer", "embed_norm_layer", "block_fn", "mlp_layer", "attn_layer":
      guard value == "none" else { throw refuse() }
    case "attn_type":
      guard value == "standard" else { throw refuse() }
    case "pos_embed_grid_size", "use_key_only_attn_mask", "scale_attn_inner_norm":
      // The grid is the table's shape; a key-only mask only matters for padded NaFlex batches.
      guard key != "scale_attn_inner_norm" || value == "false" else { throw refuse() }
    default:
      return false
    }
    return true
  }

  /// NaFlexVitCfg's defaults where the arguments say nothing: MAP pooling, patch 16, bicubic.
  mutating func naflexDefaults(path: String, raw: String?) throws(CheckpointError) {
    if globalPool == nil { globalPool = "map" }
    if patchSize == nil { patchSize = 16 }
    if positionResampling == nil { positionResampling = .timm }
  }
}
