import Foundation

/// Fixed sinusoidal position encodings (no learned parameters).
///
/// Reference: Vaswani et al. 2017 §3.5 for 1D; the 2D form follows MAE's
/// `get_2d_sincos_pos_embed` (He et al. 2022) and SimpleViT: half of the channels encode the
/// column, half the row, each as `[sin(p·ω_0) … sin(p·ω_{D/4−1}), cos(p·ω_0) … cos(p·ω_{D/4−1})]`
/// with `ω_i = 1 / 10000^(i / (D/4))`.
public enum SinCosPositionalEncoding {
  /// 1D encoding of `positions.count` positions into `dimension` channels, `[positions, D]`
  /// row-major: channels `0..<D/2` are sines and `D/2..<D` cosines of `p · ω_i`, with
  /// `ω_i = 1 / 10000^(i / (D/2))`. `dimension` must be even.
  public static func oneDimensional(positions: [Double], dimension: Int) -> [Float] {
    precondition(dimension > 0 && dimension % 2 == 0, "dimension must be positive and even, got \(dimension)")
    let half = dimension / 2
    var out = [Float](repeating: 0, count: positions.count * dimension)
    for (row, p) in positions.enumerated() {
      for i in 0..<half {
        let omega = 1 / pow(10_000, Double(i) / Double(half))
        out[row * dimension + i] = Float(sin(p * omega))
        out[row * dimension + half + i] = Float(cos(p * omega))
      }
    }
    return out
  }

  /// 2D encoding of a `gridHeight × gridWidth` patch grid, `[gridHeight·gridWidth, D]`
  /// row-major, patches in row-major order. Channels `0..<D/2` encode the column (x) and
  /// `D/2..<D` the row (y), as MAE does (its `grid[0]` is the width coordinate).
  /// `dimension` must be a multiple of 4.
  public static func twoDimensional(gridWidth: Int, gridHeight: Int, dimension: Int) -> [Float] {
    precondition(dimension > 0 && dimension % 4 == 0, "dimension must be a positive multiple of 4, got \(dimension)")
    let half = dimension / 2
    let columns = oneDimensional(positions: (0..<gridWidth).map(Double.init), dimension: half)
    let rows = oneDimensional(positions: (0..<gridHeight).map(Double.init), dimension: half)
    var out = [Float](repeating: 0, count: gridWidth * gridHeight * dimension)
    for y in 0..<gridHeight {
      for x in 0..<gridWidth {
        let base = (y * gridWidth + x) * dimension
        for c in 0..<half {
          out[base + c] = columns[x * half + c]
          out[base + half + c] = rows[y * half + c]
        }
      }
    }
    return out
  }
}
