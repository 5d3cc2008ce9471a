extension Image {
  /// The image as RGB: gray is replicated, alpha is dropped.
  public func rgb() -> Image {
    if channels == 3 { return self }
    var out = [UInt8](repeating: 0, count: width * height * 3)
    for p in 0..<(width * height) {
      for c in 0..<3 {
        out[p * 3 + c] = pixels[p * channels + (channels >= 3 ? c : 0)]
      }
    }
    return Image(width: width, height: height, channels: 3, pixels: out)
  }
}
