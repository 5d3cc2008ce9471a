extension Image {
  /// The image as planar floats `[3, height, width]` (RGB; gray replicated, alpha dropped),
  /// each value `(pixel / 255 − mean[c]) / std[c]`, the normalisation timm and Hugging Face
  /// preprocessors apply.
  public func planarFloats(mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) -> [Float] {
    precondition(mean.count == 3 && std.count == 3, "mean and std need 3 values, got \(mean.count) and \(std.count)")
    let plane = width * height
    var out = [Float](repeating: 0, count: 3 * plane)
    for p in 0..<plane {
      for c in 0..<3 {
        let value = Float(pixels[p * channels + (channels >= 3 ? c : 0)]) / 255
        out[c * plane + p] = (value - mean[c]) / std[c]
      }
    }
    return out
  }

  /// An RGB image from planar floats `[3, height, width]`, undoing `planarFloats`: each
  /// value becomes `(v · std[c] + mean[c]) · 255`, rounded and clamped to 0…255.
  public init(planarFloats values: [Float], width: Int, height: Int, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) {
    let plane = width * height
    precondition(values.count == 3 * plane, "got \(values.count) values, expected 3x\(height)x\(width)")
    var pixels = [UInt8](repeating: 0, count: 3 * plane)
    for p in 0..<plane {
      for c in 0..<3 {
        let v = ((values[c * plane + p] * std[c] + mean[c]) * 255).rounded()
        pixels[p * 3 + c] = UInt8(min(max(v, 0), 255))
      }
    }
    self.init(width: width, height: height, channels: 3, pixels: pixels)
  }
}
