import Foundation
import VATensorCore

/// DETR's 2-D sine position encoding of a feature map (Carion et al. 2020, §A.4; the
/// "normalize=True" form of `PositionEmbeddingSine` in facebookresearch/detr and of
/// transformers' `DetrSinePositionEmbedding`).
///
/// For the feature map's unpadded mask (all ones for a single image), `y = cumsum` down the
/// rows and `x = cumsum` along the columns (1 … h and 1 … w), normalised to
/// `y / (y_last + 1e-6) · scale`, scale 2π; with `F = d/2` features per axis and
/// `dim_t[i] = temperature^(2⌊i/2⌋/F)`, feature `2k` is `sin(p / dim_t[2k])` and `2k + 1` is
/// `cos(p / dim_t[2k + 1])`; the y features come first, then the x features.
///
/// Shapes: the result is `[h·w, d]`, rows in row-major order over the map, `d = 2F`.
/// Complexity: O(h · w · d).
public struct DETRSinePositionEncoding: Sendable, Equatable {
  /// Features per axis `F` (transformers: `d_model / 2`).
  public let featuresPerAxis: Int
  /// The base of the frequencies (10000).
  public let temperature: Float
  /// The range the normalised coordinates span (2π).
  public let scale: Float

  /// An encoding with `featuresPerAxis` features per axis (even), as DETR builds it.
  public init(featuresPerAxis: Int, temperature: Float = 10000, scale: Float = 2 * .pi) {
    precondition(featuresPerAxis > 0 && featuresPerAxis % 2 == 0, "DETR's sine encoding needs an even, positive feature count per axis, got \(featuresPerAxis)")
    (self.featuresPerAxis, self.temperature, self.scale) = (featuresPerAxis, temperature, scale)
  }

  /// The encoding of an `height × width` map with no padding, `[height·width, 2F]`.
  public func callAsFunction(height: Int, width: Int) -> Tensor {
    precondition(height > 0 && width > 0, "DETR's sine encoding needs a non-empty map, got \(height)×\(width)")
    let f = featuresPerAxis
    // As torch: the exponent 2⌊i/2⌋/F in float32, then temperature ** exponent.
    let dimT = (0..<f).map { i in Float(Foundation.pow(Double(temperature), Double(Float(2 * (i / 2)) / Float(f)))) }
    // The mask's cumsum divided by its last value (+1e-6), times the scale, in float32 as torch.
    func normalised(_ index: Int, _ extent: Int) -> Float { Float(index + 1) / (Float(extent) + 1e-6) * scale }
    func encode(_ p: Float, into row: inout [Float], at offset: Int) {
      for i in 0..<f {
        let v = p / dimT[i]
        row[offset + i] = i % 2 == 0 ? Foundation.sin(v) : Foundation.cos(v)
      }
    }
    var scalars = [Float](repeating: 0, count: height * width * 2 * f)
    var row = [Float](repeating: 0, count: 2 * f)
    for y in 0..<height {
      for x in 0..<width {
        encode(normalised(y, height), into: &row, at: 0)
        encode(normalised(x, width), into: &row, at: f)
        let base = (y * width + x) * 2 * f
        for i in 0..<(2 * f) { scalars[base + i] = row[i] }
      }
    }
    return Tensor(shape: [height * width, 2 * f], scalars: scalars)
  }
}
