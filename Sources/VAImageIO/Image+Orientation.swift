extension Image {
  /// The image turned upright as an EXIF orientation tag (1-8) describes it, matching
  /// Pillow's `ImageOps.exif_transpose`: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
  /// 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
  public func oriented(exif orientation: Int) -> Image {
    guard (2...8).contains(orientation) else { return self }
    let (w, h) = (width, height)
    let swaps = orientation >= 5
    let outWidth = swaps ? h : w, outHeight = swaps ? w : h
    var out = [UInt8](repeating: 0, count: pixels.count)
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for y in 0..<outHeight {
          for x in 0..<outWidth {
            // Source pixel of output pixel (x, y).
            let (sx, sy): (Int, Int) =
              switch orientation {
              case 2: (w - 1 - x, y)
              case 3: (w - 1 - x, h - 1 - y)
              case 4: (x, h - 1 - y)
              case 5: (y, x)
              case 6: (y, h - 1 - x)
              case 7: (w - 1 - y, h - 1 - x)
              default: (w - 1 - y, x)
              }
            let s = (sy * w + sx) * channels, d = (y * outWidth + x) * channels
            for c in 0..<channels { dst[d + c] = src[s + c] }
          }
        }
      }
    }
    return Image(width: outWidth, height: outHeight, channels: channels, pixels: out)
  }
}
