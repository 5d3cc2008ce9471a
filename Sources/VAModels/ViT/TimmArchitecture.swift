import Foundation
import VALayers
import VATensorCore

/// What a timm `config.json` says about the computation: the architecture name's implied
/// constructor arguments (from the generated `TimmArchitecture.table`), overlaid by the
/// config's own `model_args` and top-level `global_pool`.
///
/// Every argument is either implemented, known not to matter in inference (dropout rates,
/// init schemes), or refused by name: nothing that changes the result is guessed.
struct TimmArchitecture {
  /// The timm class the name builds: `VisionTransformer`, `VisionTransformerDistilled`,
  /// `Beit` or `Eva`; nil for a config without an architecture name (or `vit_custom`, the
  /// name this toolkit and its fixtures write, whose `model_args` say everything).
  var modelClass: String?
  var name: String?
  var arguments: [String: String]

  /// Settings read from the arguments, nil where they say nothing (the tensors decide).
  var headCount: Int?
  var activation = GELUApproximation.exact
  var layerNormEps: Float?
  /// Every norm's kind (`norm_layer`): LayerNorm unless it names RmsNorm.
  var normKind = LayerNorm.Kind.layer
  /// Whether `embed_norm_layer` puts a norm after the patch projection (AIMv2).
  var embedNorm = false
  var globalPool: String?
  var classToken: Bool?
  var noEmbedClass: Bool?
  var imageSize: (height: Int, width: Int)?
  var poolHeadCount: Int?
  var rotary: RotaryPositions?
  /// NaFlexVit's `pos_embed_interp_mode`: how its position table is resized to each grid.
  var positionResampling: PositionResampling?
  /// NaFlexVit's `pos_embed_ar_preserving` (`*_par_*`).
  var positionAspectPreserving = false
  /// NaFlexVit's `patch_size` (its linear patch embedding's weight cannot show it).
  var patchSize: Int?

  /// timm's SwiGLU MLPs: packed with the gate first (`SwiGLUPacked`, `GluMlp(gate_last=False)`
  /// with SiLU: fc1 holds gate and value rows) or unpacked (`SwiGLU`: `fc1_g`, `fc1_x`; AIMv2).
  static let swiGLU: Set<String> = ["SwiGLUPacked", "GluMlp(act_layer=SiLU,gate_last=false)", "SwiGLU"]

  /// Arguments that only matter in training or only restate what the tensors show.
  static let harmless: Set<String> = [
    "patch_size", "embed_dim", "depth", "mlp_ratio", "num_classes", "in_chans", "qkv_bias", "proj_bias",
    "init_values", "pre_norm", "fc_norm", "use_fc_norm", "reg_tokens", "dynamic_img_size", "dynamic_img_pad",
    "final_norm", "drop_rate", "pos_drop_rate", "patch_drop_rate", "proj_drop_rate", "attn_drop_rate",
    "drop_path_rate", "weight_init", "fix_init", "head_init_scale", "use_abs_pos_emb", "use_rel_pos_bias",
    "use_shared_rel_pos_bias", "attn_pool_mlp_ratio", "pretrained_strict", "strict_img_size", "output_fmt",
    // Shown by the tensors (q_proj or qkv, fc1_g or fc1, mlp.norm, norm_pre, norm or fc_norm, reg_token).
    "qkv_fused", "swiglu_mlp", "scale_mlp", "use_pre_transformer_norm", "use_post_transformer_norm", "num_reg_tokens",
  ]

  /// Reads `config` (a timm `config.json`), throwing for a name or argument it does not implement.
  init(config: [String: Any]?, path: String) throws(CheckpointError) {
    arguments = [:]
    let raw = config?["architecture"] as? String
    // Hub configs name a pretrained tag too ("vit_base_patch16_224.augreg_in21k"); the
    // architecture is the part before the dot.
    let base = raw.map { String($0.split(separator: ".", maxSplits: 1).first ?? "") }
    if let base, base != "vit_custom" {
      guard let entry = Self.registry[base] else {
        throw .badConfig(path: path, reason: "architecture '\(raw!)' is not a timm ViT this loader implements (timm 1.0.31's VisionTransformer, VisionTransformerDistilled, Beit, Eva and NaFlexVit names)")
      }
      modelClass = entry.modelClass
      arguments = entry.arguments
    }
    name = base
    for (key, value) in config?["model_args"] as? [String: Any] ?? [:] { arguments[key] = Self.render(value) }
    if arguments["global_pool"] == nil, let pool = config?["global_pool"] as? String { arguments["global_pool"] = pool }
    if let modelClass, !["VisionTransformer", "VisionTransformerDistilled", "Beit", "Eva", "NaFlexVit"].contains(modelClass) {
      throw .badConfig(path: path, reason: "architecture '\(raw!)' is timm's \(modelClass) class, which this loader does not implement")
    }
    for key in arguments.keys.sorted() where !Self.harmless.contains(key) {
      let value = arguments[key]!
      func refuse() -> CheckpointError { .badConfig(path: path, reason: "model_args \(key) = \(value) is not implemented (architecture \(raw ?? "unnamed"))") }
      if modelClass == "NaFlexVit", try readNaFlex(key, value, path: path, raw: raw) { continue }
      switch key {
      case "num_heads":
        guard let n = Int(value), n > 0 else { throw refuse() }
        headCount = n
      case "attn_pool_num_heads":
        if value == "none" { break }
        guard let n = Int(value), n > 0 else { throw refuse() }
        poolHeadCount = n
      case "act_layer":
        switch value {
        case "none", "gelu", "GELU": activation = .exact
        case "quick_gelu", "QuickGELU": activation = .quick
        case "gelu_tanh", "GELUTanh": activation = .tanh
        // SiLU drives the gate of a SwiGLU MLP (DINOv2 giant); checked against mlp_layer below.
        case "silu", "SiLU": guard Self.swiGLU.contains(arguments["mlp_layer"] ?? "") else { throw refuse() }
        default: throw refuse()
        }
      case "norm_layer":
        if value == "none" { break }
        guard let (kind, eps) = Self.norm(value) else { throw refuse() }
        normKind = kind
        if let eps { layerNormEps = eps }
      case "embed_norm_layer":
        if value == "none" { break }
        // One kind and eps for every norm: an embedding norm unlike the blocks' is refused.
        guard let (kind, eps) = Self.norm(value), kind == (Self.norm(arguments["norm_layer"] ?? "").map(\.kind) ?? .layer),
          eps == Self.norm(arguments["norm_layer"] ?? "")?.eps
        else { throw refuse() }
        embedNorm = true
      case "global_pool":
        guard ["token", "avg", "map"].contains(value) else { throw refuse() }
        globalPool = value
      case "class_token":
        guard let flag = Bool(value) else { throw refuse() }
        classToken = flag
      case "no_embed_class":
        guard let flag = Bool(value) else { throw refuse() }
        noEmbedClass = flag
      case "pos_embed":
        guard value == "learn" || value == "none" else { throw refuse() }
      case "img_size":
        let sides = value.split(separator: ",").compactMap { Int($0) }
        if sides.count == 1 { imageSize = (sides[0], sides[0]) } else if sides.count == 2 { imageSize = (sides[0], sides[1]) } else { throw refuse() }
      case "use_rot_pos_emb":
        guard let flag = Bool(value) else { throw refuse() }
        rotary = flag ? (rotary ?? RotaryPositions()) : nil
      case "rope_temperature", "rope_grid_offset", "ref_feat_shape", "rope_type", "rope_grid_indexing", "rope_rotate_half", "attn_type",
        "rope_rescale_coords", "rope_shift_coords", "rope_jitter_coords":
        break  // read below, once use_rot_pos_emb is known
      case "swiglu_align_to":
        // Rounds SwiGLU's hidden width up (DINOv3 +/7B): the fc1_g / fc1_x shapes show the result.
        guard value == "none" || Int(value) != nil else { throw refuse() }
      case "num_kv_heads":
        guard value == "none" else { throw refuse() }
      case "scale_attn_inner" where modelClass == "Eva":
        break  // EvaAttention's norm before proj: attn.norm in the tensors
      case "qk_norm", "scale_attn_norm", "scale_mlp_norm", "scale_attn_inner", "pool_include_prefix", "use_post_norm",
        "attn_only_layer_scale", "gated_attn":
        // Off is timm's default; on adds norms or changes pooling this loader does not model.
        guard value == "false" else { throw refuse() }
      case "embed_layer", "block_fn", "mlp_layer":
        // A SwiGLU mlp_layer is implemented when SiLU gates it (its fc1 then holds gate and value rows).
        let gatedBySiLU = key == "mlp_layer" && Self.swiGLU.contains(value) && ["silu", "SiLU"].contains(arguments["act_layer"] ?? "")
        guard ["PatchEmbed", "Block", "Mlp"].contains(value) || gatedBySiLU else { throw refuse() }
      default:
        throw refuse()
      }
    }
    if modelClass == "VisionTransformerDistilled", globalPool == nil { globalPool = "token" }
    if modelClass == "Eva", globalPool == nil { globalPool = "avg" }
    if modelClass == "NaFlexVit" { try naflexDefaults(path: path, raw: raw) }
    try readRotary(path: path, raw: raw)
    // Beit's own default pooling is the patch average (with fc_norm), not the class token.
    if modelClass == "Beit", globalPool == nil { globalPool = "avg" }
  }

  /// timm's `norm_layer` spellings this loader implements: `LayerNorm`/`layernorm` and
  /// `RmsNorm`/`rmsnorm` (default eps 1e-6 both, nil here), or with `(eps=…)`; nil for others.
  static func norm(_ value: String) -> (kind: LayerNorm.Kind, eps: Float?)? {
    let kinds: [String: LayerNorm.Kind] = ["LayerNorm": .layer, "layernorm": .layer, "RmsNorm": .rms, "rmsnorm": .rms]
    if let kind = kinds[value] { return (kind, nil) }
    for (name, kind) in [("LayerNorm", LayerNorm.Kind.layer), ("RmsNorm", .rms)] where value.hasPrefix(name + "(eps=") && value.hasSuffix(")") {
      guard let eps = Float(value.dropFirst(name.count + 5).dropLast()) else { return nil }
      return (kind, eps)
    }
    return nil
  }

  /// A JSON value as the table spells it (`true`, `16`, `224,224`, `LayerNorm(eps=1e-05)`).
  static func render(_ value: Any) -> String {
    if let flag = value as? Bool { return flag ? "true" : "false" }
    if let n = integer(value) { return String(n) }
    if let x = value as? Double { return String(x) }
    if let s = value as? String { return s }
    if let array = value as? [Any] { return array.map(render).joined(separator: ",") }
    if value is NSNull { return "none" }
    return "\(value)"
  }

  /// timm names → (class, implied arguments), parsed once from the generated table.
  static let registry: [String: (modelClass: String, arguments: [String: String])] = {
    var out: [String: (String, [String: String])] = [:]
    for line in table.split(separator: "\n") {
      let fields = line.split(separator: "\t").map(String.init)
      guard fields.count >= 2 else { continue }
      var arguments: [String: String] = [:]
      for field in fields.dropFirst(2) {
        guard let eq = field.firstIndex(of: "=") else { continue }
        arguments[String(field[..<eq])] = String(field[field.index(after: eq)...])
      }
      out[fields[0]] = (fields[1], arguments)
    }
    return out
  }()
}

extension TimmArchitecture {
  /// EVA's rotary arguments: the "cat" rope (eva02_*, vit_*_rope_*, vit_pe_*) and the learned
  /// "mixed" rope (vit_*_rope_mixed_*), with "ij" or "xy" grid indexing, in the interleaved
  /// layout (EvaAttention or timm's AttentionRope, the same computation with a fused qkv whose
  /// k has a bias too), and the "dinov3" rope (vit_*_dinov3*) with "ij" indexing in the
  /// rotate-half layout. Other rope types and layouts are refused by name.
  mutating func readRotary(path: String, raw: String?) throws(CheckpointError) {
    func refuse(_ key: String) -> CheckpointError {
      .badConfig(path: path, reason: "model_args \(key) = \(arguments[key] ?? "") is not implemented (architecture \(raw ?? "unnamed"))")
    }
    if let value = arguments["attn_type"], value != "eva", value != "rope" { throw refuse("attn_type") }
    guard var rotary else { return }
    switch arguments["rope_type"] ?? "cat" {
    case "cat", "mixed": rotary.scheme = .eva
    case "dinov3": rotary.scheme = .dinov3Timm
    default: throw refuse("rope_type")
    }
    let dinov3 = rotary.scheme == .dinov3Timm
    if let value = arguments["rope_grid_indexing"], value != "ij", value != "xy" || dinov3 { throw refuse("rope_grid_indexing") }
    rotary.columnsFirst = arguments["rope_grid_indexing"] == "xy"
    // Each scheme is implemented in the layout its checkpoints were trained with.
    if let value = arguments["rope_rotate_half"], value != (dinov3 ? "true" : "false") { throw refuse("rope_rotate_half") }
    if dinov3, arguments["rope_rotate_half"] == nil {
      throw .badConfig(path: path, reason: "model_args rope_rotate_half = false (Eva's default) with rope_type = dinov3 is not implemented (architecture \(raw ?? "unnamed"))")
    }
    for key in ["rope_rescale_coords", "rope_shift_coords", "rope_jitter_coords"] {
      // RotaryEmbeddingDinoV3 augments coordinates in training only; the other ropes are not checked.
      if let value = arguments[key], value != "none", !dinov3 { throw refuse(key) }
    }
    if arguments["rope_type"] == "mixed" {
      // create_rope_embed drops the offset and the reference grid for mixed RoPE, and its
      // temperature only seeds the learned frequencies' initialisation.
      rotary.learnedFrequencies = true
      self.rotary = rotary
      return
    }
    if let value = arguments["rope_temperature"] {
      guard let t = Float(value) else { throw refuse("rope_temperature") }
      rotary.temperature = t
    }
    if let value = arguments["rope_grid_offset"] {
      guard let t = Float(value) else { throw refuse("rope_grid_offset") }
      rotary.gridOffset = t
    }
    // RotaryEmbeddingDinoV3 is not given ref_feat_shape (Eva passes it to the cat rope only).
    if let value = arguments["ref_feat_shape"], value != "none", !dinov3 {
      let sides = value.split(separator: ",").compactMap { Int($0) }
      guard sides.count == 2 || sides.count == 1 else { throw refuse("ref_feat_shape") }
      rotary.referenceHeight = sides[0]
      rotary.referenceWidth = sides.last!
    }
    self.rotary = rotary
  }
}
