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

extension Image {
  /// The shorter side resized to `side` (bilinear, antialiased when shrinking), then the
  /// centre `side × side` square: how `patch-classify` sizes folder images, and so how a
  /// CNN it trained is fed. `origin` and `scale` place the square in this image's pixels:
  /// it covers `[origin.x, origin.x + side / scale)` × `[origin.y, origin.y + side / scale)`.
  public func centreSquare(side: Int) -> (image: Image, origin: (x: Double, y: Double), scale: Double) {
    precondition(side > 0, "a square needs a positive side, got \(side)")
    let scale = Double(side) / Double(min(width, height))
    let w = max(side, Int((Double(width) * scale).rounded())), h = max(side, Int((Double(height) * scale).rounded()))
    let resized = (w, h) == (width, height) ? self : self.resized(width: w, height: h, filter: .bilinear)
    let (x, y) = ((w - side) / 2, (h - side) / 2)
    // The resize maps w pixels onto `width`, so a resized pixel is width / w of the original.
    return (resized.cropped(x: x, y: y, width: side, height: side), (Double(x) * Double(width) / Double(w), Double(y) * Double(height) / Double(h)), scale)
  }
}
