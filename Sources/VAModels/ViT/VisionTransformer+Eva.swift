import VALayers
import VATensorCore

/// timm's `Eva` layout beside the ViT one: separate `attn.q_proj` / `k_proj` (no bias) /
/// `v_proj` when `qkv_fused` is off, and the MLP variants `EvaBlock` builds — SwiGLU with
/// `mlp.fc1_g`, `mlp.fc1_x` and a hidden `mlp.norm` (`scale_mlp`), the packed `GluMlp`
/// (`mlp.fc1` holding gate then value rows), or timm's `Mlp` with an optional hidden norm.
extension VisionTransformer {
  /// The three separate projections stacked into timm's fused `qkv` (rows q, k, v), with a
  /// zero k bias; nil when the block has a fused `qkv`.
  static func separateQKV(_ r: CheckpointReader, block b: String, dimension d: Int) throws(CheckpointError) -> Linear? {
    guard r.has(b + ".attn.q_proj.weight") else { return nil }
    let weights = try ["q", "k", "v"].map { (p: String) throws(CheckpointError) -> Tensor in try r.tensor("\(b).attn.\(p)_proj.weight", [d, d]) }
    let q = try r.optional(b + ".attn.q_proj.bias", [d]), k = try r.optional(b + ".attn.k_proj.bias", [d]), v = try r.optional(b + ".attn.v_proj.bias", [d])
    let zeros = Tensor(shape: [d], scalars: [Float](repeating: 0, count: d))
    let bias = q == nil && k == nil && v == nil ? nil : concat([q ?? zeros, k ?? zeros, v ?? zeros], axis: 0)
    return Linear(weight: concat(weights, axis: 0), bias: bias)
  }

  /// The block's MLP in whichever of timm's layouts it is stored.
  static func timmMlp(_ r: CheckpointReader, block b: String, configuration c: ViTConfiguration) throws(CheckpointError) -> Mlp {
    let d = c.embedDimension
    func linear(_ name: String, _ outputs: Int, _ inputs: Int) throws(CheckpointError) -> Linear {
      try r.linear("\(b).mlp.\(name)", outputs, inputs)
    }
    func hiddenNorm(_ h: Int) throws(CheckpointError) -> LayerNorm? {
      r.has(b + ".mlp.norm.weight")
        ? try r.layerNorm(b + ".mlp.norm", width: h, eps: c.layerNormEps, kind: c.normKind) : nil
    }
    if r.has(b + ".mlp.fc1_g.weight") {
      let h = r.shape(b + ".mlp.fc1_g.weight")?.first ?? 0
      return Mlp(fc1: try linear("fc1_x", h, d), fc2: try linear("fc2", d, h), gate: try linear("fc1_g", h, d), hiddenNorm: try hiddenNorm(h))
    }
    guard let fc1 = r.shape(b + ".mlp.fc1.weight"), let fc2 = r.shape(b + ".mlp.fc2.weight"), fc1.count == 2, fc2.count == 2 else {
      throw .missingTensor(path: r.path, name: b + ".mlp.fc1.weight")
    }
    if fc1[0] == 2 * fc2[1] {
      // GluMlp(gate_last=False): fc1's first half is the SiLU gate, its second half the value.
      let h = fc2[1]
      let packed = try linear("fc1", 2 * h, d)
      let rows = packed.weight.chunked(2, axis: 0), biases = packed.bias?.chunked(2, axis: 0)
      return Mlp(
        fc1: Linear(weight: rows[1], bias: biases?[1]), fc2: try linear("fc2", d, h),
        gate: Linear(weight: rows[0], bias: biases?[0]), hiddenNorm: try hiddenNorm(h))
    }
    let h = fc1[0]
    return Mlp(fc1: try linear("fc1", h, d), fc2: try linear("fc2", d, h), approximation: c.activation, hiddenNorm: try hiddenNorm(h))
  }
}
