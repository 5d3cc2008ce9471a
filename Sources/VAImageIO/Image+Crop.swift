extension Image {
  /// The `width × height` region whose top-left pixel is `(x, y)`; it must lie inside the
  /// image.
  public func cropped(x: Int, y: Int, width newWidth: Int, height newHeight: Int) -> Image {
    precondition(
      x >= 0 && y >= 0 && newWidth > 0 && newHeight > 0 && x + newWidth <= width && y + newHeight <= height,
      "crop \(newWidth)x\(newHeight) at (\(x), \(y)) is outside the \(width)x\(height) image")
    var out = [UInt8]()
    out.reserveCapacity(newWidth * newHeight * channels)
    for row in y..<(y + newHeight) {
      let start = (row * width + x) * channels
      out.append(contentsOf: pixels[start..<(start + newWidth * channels)])
    }
    return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
  }
}
