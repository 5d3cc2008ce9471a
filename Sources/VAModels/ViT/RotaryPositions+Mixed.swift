import Foundation
import VALayers
import VATensorCore

/// timm's mixed-frequency RoPE (`RotaryEmbeddingMixed`, `rope_type='mixed'`; Heo et al. 2024,
/// "Rotary Position Embedding for Vision Transformer", RoPE-Mixed).
///
/// Every block `l` and head `h` has `d/2` learned frequency pairs `(fx, fy)`; patch `(y, x)`
/// turns channel pair `k` by `θ = tx · fx[l, h, k] + ty · fy[l, h, k]`, each angle repeated for
/// its pair (the interleaved layout), with `(tx, ty) = (x, y)` for `rope_grid_indexing = "xy"`
/// and `(y, x)` for "ij" (timm's `get_mixed_grid`). No offset, no reference grid: timm drops both.
extension RotaryPositions {
  /// Block `layer`'s tables `[heads, N, d]` from `frequencies` `[2, depth, heads, d/2]`, in
  /// float32 as timm's `get_mixed_freqs` computes them (two products, then their sum).
  public func mixedEmbedding(frequencies: Tensor, layer: Int, gridWidth gw: Int, gridHeight gh: Int, prefixTokens: Int) -> RotaryEmbedding {
    precondition(frequencies.rank == 4 && frequencies.shape[0] == 2, "mixed RoPE frequencies must be [2, depth, heads, d/2], got \(frequencies.shape)")
    let (depth, heads, half) = (frequencies.shape[1], frequencies.shape[2], frequencies.shape[3])
    precondition((0..<depth).contains(layer), "layer \(layer) of \(depth) mixed RoPE blocks")
    let f = frequencies.scalars, d = 2 * half, n = gw * gh
    var cos = [Float](repeating: 0, count: heads * n * d), sin = cos
    for h in 0..<heads {
      let fx = (layer * heads + h) * half, fy = ((depth + layer) * heads + h) * half
      for y in 0..<gh {
        for x in 0..<gw {
          let (tx, ty) = columnsFirst ? (Float(x), Float(y)) : (Float(y), Float(x))
          let row = (h * n + y * gw + x) * d
          for k in 0..<half {
            let angle = tx * f[fx + k] + ty * f[fy + k]
            cos[row + 2 * k] = Foundation.cos(angle)
            sin[row + 2 * k] = Foundation.sin(angle)
            cos[row + 2 * k + 1] = cos[row + 2 * k]
            sin[row + 2 * k + 1] = sin[row + 2 * k]
          }
        }
      }
    }
    return RotaryEmbedding(cos: cos, sin: sin, headDimension: d, prefixTokens: prefixTokens)
  }
}

extension VisionTransformer {
  /// The rotary tables of a `gridWidth × gridHeight` input: none without RoPE, one every block
  /// shares (fixed bands), or one per block (learned mixed frequencies).
  func rotaryTables(gridWidth gw: Int, gridHeight gh: Int) -> [RotaryEmbedding] {
    let c = configuration
    guard let rotary = c.rotary else { return [] }
    guard rotary.learnedFrequencies else {
      return [rotary.embedding(gridWidth: gw, gridHeight: gh, headDimension: c.embedDimension / c.headCount, prefixTokens: c.prefixTokens)]
    }
    guard let rotaryFrequencies else { preconditionFailure("mixed RoPE needs its learned frequencies (rotaryFrequencies)") }
    return (0..<c.depth).map { rotary.mixedEmbedding(frequencies: rotaryFrequencies, layer: $0, gridWidth: gw, gridHeight: gh, prefixTokens: c.prefixTokens) }
  }

  /// timm's `rope.freqs` `[2, depth, heads, d/2]` when the configuration's RoPE learns its
  /// frequencies; nil otherwise (fixed bands are in no tensor).
  static func timmRotaryFrequencies(_ r: CheckpointReader, configuration c: ViTConfiguration) throws(CheckpointError) -> Tensor? {
    guard c.rotary?.learnedFrequencies == true else { return nil }
    let d = c.embedDimension / c.headCount
    guard d % 4 == 0 else { throw .inconsistent(path: r.path, reason: "mixed RoPE needs a head width divisible by 4, got \(d)") }
    return try r.tensor("rope.freqs", [2, c.depth, c.headCount, d / 2])
  }
}
