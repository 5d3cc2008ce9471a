import VALayers
import VATensorCore

/// timm's `Beit` layout beside the ViT one: `blocks.{i}.attn.q_bias` / `v_bias` (no stored
/// k bias: it is zero), `gamma_1` / `gamma_2` layer scale, and relative position bias tables
/// per block (`blocks.{i}.attn.relative_position_bias_table`) or shared
/// (`rel_pos_bias.relative_position_bias_table`).
extension VisionTransformer {
  /// The fused projection's bias `[q_bias, 0, v_bias]` (`[3D]`), when the block stores them.
  static func beitQKVBias(_ r: CheckpointReader, block b: String, dimension d: Int) throws(CheckpointError) -> Tensor? {
    guard r.has(b + ".attn.q_bias") else { return nil }
    if r.has(b + ".attn.qkv.bias") { throw .inconsistent(path: r.path, reason: "\(b).attn has both qkv.bias and q_bias") }
    let q = try r.tensor(b + ".attn.q_bias", [d]), v = try r.tensor(b + ".attn.v_bias", [d])
    return Tensor(shape: [3 * d], scalars: q.scalars + [Float](repeating: 0, count: d) + v.scalars)
  }

  /// Relative position biases for the trained grid; `relative_position_index` buffers, which
  /// old checkpoints carry and timm regenerates, are recomputed too.
  static func beitRelativePositionBiases(_ r: CheckpointReader, configuration c: ViTConfiguration) throws(CheckpointError) -> [RelativePositionBias] {
    guard c.relativePositionBias else { return [] }
    let (gh, gw) = (c.positionGridHeight, c.positionGridWidth)
    let rows = (2 * gh - 1) * (2 * gw - 1) + 3
    r.ignore { $0.hasSuffix("relative_position_index") }
    let shared = "rel_pos_bias.relative_position_bias_table"
    let names = r.has(shared) ? [shared] : (0..<c.depth).map { "blocks.\($0).attn.relative_position_bias_table" }
    var out: [RelativePositionBias] = []
    for name in names {
      guard let shape = r.shape(name) else { throw .missingTensor(path: r.path, name: name) }
      guard shape.count == 2, shape[0] == rows, shape[1] == c.headCount else {
        throw .inconsistent(path: r.path, reason: "\(name) is \(shape), expected [\(rows), \(c.headCount)] for the \(gw)x\(gh) grid the config gives")
      }
      out.append(RelativePositionBias(table: try r.tensor(name, shape), windowHeight: gh, windowWidth: gw))
    }
    return out
  }
}
