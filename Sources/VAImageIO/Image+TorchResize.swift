extension Image {
  /// The image resampled to `width × height` as torchvision's `resize(antialias=True)` does on a
  /// `uint8` tensor (ATen's `upsample_avx_bilinear_bicubic_uint8`, what Hugging Face's
  /// torchvision image processors such as `Siglip2ImageProcessor` run).
  ///
  /// Like Pillow (`resized(width:height:filter:)`): separable passes, horizontal then vertical,
  /// through an 8-bit intermediate, the filter stretched by the scale factor when shrinking.
  /// Unlike Pillow, the weights are rounded to 16-bit integers with a precision chosen per pass
  /// (the most bits, up to 22, that keep the largest weight under 2¹⁵), so the last bit of some
  /// pixels differs from Pillow's. Only `.bilinear` and `.bicubic` (a = −0.5) are torch's filters.
  public func torchvisionResized(width newWidth: Int, height newHeight: Int, filter: ResizeFilter) -> Image {
    precondition(newWidth > 0 && newHeight > 0, "target size must be positive, got \(newWidth)x\(newHeight)")
    precondition(filter != .nearest, "torchvision's antialiased uint8 path is bilinear or bicubic")
    var image = self
    if newWidth != width { image = image.torchPass(horizontal: true, to: newWidth, filter: filter) }
    if newHeight != height { image = image.torchPass(horizontal: false, to: newHeight, filter: filter) }
    return image
  }

  /// One pass of ATen's `ImagingResampleHorizontal` / `ImagingResampleVertical` (uint8, int16 weights).
  private func torchPass(horizontal: Bool, to size: Int, filter: ResizeFilter) -> Image {
    let inSize = horizontal ? width : height
    // ATen's _compute_indices_min_size_weights_aa in double, then _compute_index_ranges_int16_weights.
    let scale = Double(inSize) / Double(size)
    let support = filter.support * max(scale, 1), invScale = scale >= 1 ? 1 / scale : 1
    var bounds: [Int] = [], taps: [[Double]] = []
    for o in 0..<size {
      let center = scale * (Double(o) + 0.5)
      let first = max(Int(center - support + 0.5), 0), last = min(Int(center + support + 0.5), inSize)
      var w = (first..<last).map { filter.weight((Double($0) - center + 0.5) * invScale) }
      let total = w.reduce(0, +)
      if total != 0 { w = w.map { $0 / total } }
      bounds.append(first)
      taps.append(w)
    }
    let largest = taps.flatMap { $0 }.max() ?? 1
    var precision = 0
    while precision < 22, Int(0.5 + largest * Double(1 << (precision + 1))) < (1 << 15) { precision += 1 }
    let one = Double(1 << precision)
    let weights = taps.map { $0.map { Int32(Int16($0 < 0 ? $0 * one - 0.5 : $0 * one + 0.5)) } }
    let outWidth = horizontal ? size : width, outHeight = horizontal ? height : size
    var out = [UInt8](repeating: 0, count: outWidth * outHeight * channels)
    let half = Int32(1) << Int32(precision - 1)
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        let lines = horizontal ? height : width
        for o in 0..<size {
          let first = bounds[o]
          for line in 0..<lines {
            for c in 0..<channels {
              var sum = half
              for (k, w) in weights[o].enumerated() {
                let i = first + k
                sum += Int32(src[horizontal ? (line * width + i) * channels + c : (i * width + line) * channels + c]) * w
              }
              let target = horizontal ? (line * outWidth + o) * channels + c : (o * outWidth + line) * channels + c
              dst[target] = UInt8(min(max(sum >> Int32(precision), 0), 255))
            }
          }
        }
      }
    }
    return Image(width: outWidth, height: outHeight, channels: channels, pixels: out)
  }
}
