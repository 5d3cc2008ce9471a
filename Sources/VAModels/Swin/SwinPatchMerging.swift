import VALayers
import VATensorCore

/// Swin's patch merging: each 2 × 2 neighbourhood's four `C`-wide tokens concatenated
/// (`4C`) and reduced to `2C`, halving the map (Liu et al. 2021 §3.1). An odd map is padded
/// with zeros at the bottom and right first.
///
/// The four neighbours are concatenated as (row, column) offsets (0,0), (1,0), (0,1), (1,1):
/// timm's `reshape(B, H/2, 2, W/2, 2, C).permute(0, 1, 3, 4, 2, 5)` and transformers'
/// `cat([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]])` agree. v1 normalises the
/// `4C` features before the reduction; v2 reduces, then normalises the `2C` result.
///
/// Shapes: `x` is `[B, H·W, C]` (row-major), the output `[B, ⌈H/2⌉·⌈W/2⌉, 2C]`.
public struct SwinPatchMerging: Sendable {
  /// The reduction `4C → 2C`, no bias (timm's `reduction`).
  public var reduction: Linear
  /// The norm: over `4C` before the reduction (v1) or over `2C` after it (v2).
  public var norm: LayerNorm
  /// Whether the norm follows the reduction (v2).
  public let normAfter: Bool

  /// A merging layer; a precondition checks that the norm's width fits where it applies.
  public init(reduction: Linear, norm: LayerNorm, normAfter: Bool) {
    precondition(norm.weight.count == (normAfter ? reduction.outputs : reduction.inputs), "merging norm \(norm.weight.shape) does not fit reduction \(reduction.weight.shape)")
    self.reduction = reduction
    self.norm = norm
    self.normAfter = normAfter
  }

  /// Source cell (or `H·W`, a zero row) for each of the `⌈H/2⌉·⌈W/2⌉·4` merged slots.
  static func sourceCells(height h: Int, width w: Int) -> [Int] {
    let (h2, w2) = ((h + 1) / 2, (w + 1) / 2)
    var out: [Int] = []
    out.reserveCapacity(h2 * w2 * 4)
    for y in 0..<h2 {
      for x in 0..<w2 {
        for (dy, dx) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
          let (sy, sx) = (2 * y + dy, 2 * x + dx)
          out.append(sy < h && sx < w ? sy * w + sx : h * w)
        }
      }
    }
    return out
  }

  /// Merges a `height × width` map: `[B, H·W, C]` → `[B, ⌈H/2⌉·⌈W/2⌉, 2C]`.
  public func callAsFunction(_ x: Tensor, height: Int, width: Int) -> Tensor {
    let (b, c) = (x.shape[0], x.shape[2])
    precondition(x.shape[1] == height * width && 4 * c == reduction.inputs, "merging expects [B, \(height * width), \(reduction.inputs / 4)], got \(x.shape)")
    let padded = concat([x, Tensor.zeros([b, 1, c])], axis: 1)
    let merged = padded.gathered(indices: Self.sourceCells(height: height, width: width), axis: 1)
      .reshaped([b, (height + 1) / 2 * ((width + 1) / 2), 4 * c])
    return normAfter ? norm(reduction(merged)) : reduction(norm(merged))
  }
}
