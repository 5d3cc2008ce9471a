/// How a learned position-embedding grid is resized to a new patch grid. Real checkpoints
/// need one of two conventions, and they give different numbers.
public enum PositionResampling: String, Sendable, CaseIterable {
  /// timm's `resample_abs_pos_embed`: `F.interpolate(mode="bicubic", antialias=True)`, i.e.
  /// Pillow's kernel (Keys, a = −0.5), stretched by the scale factor when shrinking.
  case timm
  /// Hugging Face's `ViTEmbeddings.interpolate_pos_encoding`: `F.interpolate(mode="bicubic",
  /// align_corners=False)` without antialias (a = −0.75, edge samples repeated).
  case huggingFace
  /// Bilinear with antialiasing: a triangle filter stretched by the scale factor when
  /// shrinking, `align_corners=False`. Hugging Face's `Siglip2VisionEmbeddings.
  /// resize_positional_embeddings` (its own weight matrix, float32) and timm's
  /// `F.interpolate(mode="bilinear", antialias=True)` (NaFlexVit's SigLIP variants) both compute it.
  case bilinearAntialiased

  /// Resamples a `[fromHeight, fromWidth, D]` grid (row-major, channels last) to
  /// `[toHeight, toWidth, D]`. Separable: along the width, then along the height.
  public func resample(_ grid: [Float], from: (height: Int, width: Int), to: (height: Int, width: Int), dimension d: Int) -> [Float] {
    precondition(grid.count == from.height * from.width * d, "grid has \(grid.count) values, expected \(from.height)x\(from.width)x\(d)")
    if from == to { return grid }
    let columns = taps(from: from.width, to: to.width)
    var wide = [Float](repeating: 0, count: from.height * to.width * d)
    for y in 0..<from.height {
      for (x, tap) in columns.enumerated() {
        for (source, weight) in tap {
          let s = (y * from.width + source) * d, o = (y * to.width + x) * d
          for c in 0..<d { wide[o + c] += weight * grid[s + c] }
        }
      }
    }
    let rows = taps(from: from.height, to: to.height)
    var out = [Float](repeating: 0, count: to.height * to.width * d)
    for (y, tap) in rows.enumerated() {
      for (source, weight) in tap {
        for x in 0..<to.width {
          let s = (source * to.width + x) * d, o = (y * to.width + x) * d
          for c in 0..<d { out[o + c] += weight * wide[s + c] }
        }
      }
    }
    return out
  }

  /// For each output index, the input indices and weights that make it.
  func taps(from inSize: Int, to outSize: Int) -> [[(index: Int, weight: Float)]] {
    let scale = Double(inSize) / Double(outSize)
    switch self {
    case .timm:
      // ATen's _compute_index_ranges_weights (antialiased), the same as Pillow's.
      let support = 2 * max(scale, 1), invScale = scale >= 1 ? 1 / scale : 1
      return (0..<outSize).map { i in
        let center = scale * (Double(i) + 0.5)
        let first = max(Int(center - support + 0.5), 0)
        let last = min(Int(center + support + 0.5), inSize)
        let weights = (first..<last).map { Self.keys(abs((Double($0) - center + 0.5) * invScale), a: -0.5) }
        let total = weights.reduce(0, +)
        return zip(first..<last, weights).map { ($0, Float($1 / total)) }
      }
    case .bilinearAntialiased:
      // ATen's _compute_index_ranges_weights with the triangle filter; transformers' siglip2
      // writes the same weights as 1 − |source − ((i + 0.5)·scale − 0.5)| / max(scale, 1), normalised.
      let support = max(scale, 1)
      return (0..<outSize).map { i in
        let center = scale * (Double(i) + 0.5)
        let first = max(Int(center - support + 0.5), 0)
        let last = min(Int(center + support + 0.5), inSize)
        let weights = (first..<last).map { max(0, 1 - abs(Double($0) - center + 0.5) / support) }
        let total = weights.reduce(0, +)
        return zip(first..<last, weights).map { ($0, Float($1 / total)) }
      }
    case .huggingFace:
      // ATen's upsample_bicubic2d: source = (i + 0.5)·scale − 0.5, four taps, edges clamped.
      return (0..<outSize).map { i in
        let source = (Double(i) + 0.5) * scale - 0.5
        let base = Int(source.rounded(.down))
        let t = source - Double(base)
        let weights = [Self.keys(t + 1, a: -0.75), Self.keys(t, a: -0.75), Self.keys(1 - t, a: -0.75), Self.keys(2 - t, a: -0.75)]
        return (0..<4).map { (min(max(base - 1 + $0, 0), inSize - 1), Float(weights[$0])) }
      }
    }
  }

  /// Keys' cubic convolution kernel at distance `x ≥ 0` (Keys 1981).
  static func keys(_ x: Double, a: Double) -> Double {
    if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return 0
  }
}
