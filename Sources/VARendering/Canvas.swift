import VAImageIO

/// A mutable RGB picture to draw into. Everything drawn is clipped to the canvas.
public struct Canvas: Sendable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Interleaved RGB, rows top to bottom.
  public private(set) var pixels: [UInt8]

  /// A `width × height` canvas filled with `background`.
  /// - Precondition: both sides positive.
  public init(width: Int, height: Int, background: RGB = .white) {
    precondition(width > 0 && height > 0, "canvas size must be positive, got \(width)x\(height)")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) {
      pixels[i * 3] = background.r
      pixels[i * 3 + 1] = background.g
      pixels[i * 3 + 2] = background.b
    }
  }

  /// A canvas holding `image` (gray replicated, alpha dropped).
  public init(_ image: Image) {
    width = image.width
    height = image.height
    pixels = image.rgb().pixels
  }

  /// The canvas as an RGB image.
  public var image: Image { Image(width: width, height: height, channels: 3, pixels: pixels) }

  /// The colour at (`x`, `y`), which must lie on the canvas.
  public func pixel(x: Int, y: Int) -> RGB {
    let i = (y * width + x) * 3
    return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
  }

  /// Sets one pixel, blending `color` over it with `opacity` 0…1; outside pixels are ignored.
  public mutating func plot(x: Int, y: Int, _ color: RGB, opacity: Float = 1) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = (y * width + x) * 3
    if opacity >= 1 {
      pixels[i] = color.r
      pixels[i + 1] = color.g
      pixels[i + 2] = color.b
      return
    }
    func mix(_ under: UInt8, _ over: UInt8) -> UInt8 {
      UInt8((Float(under) * (1 - opacity) + Float(over) * opacity).rounded())
    }
    pixels[i] = mix(pixels[i], color.r)
    pixels[i + 1] = mix(pixels[i + 1], color.g)
    pixels[i + 2] = mix(pixels[i + 2], color.b)
  }

  /// Copies `image` with its top-left corner at `(x, y)`.
  public mutating func draw(_ image: Image, x: Int, y: Int) {
    let rgb = image.rgb()
    for row in 0..<rgb.height {
      for column in 0..<rgb.width {
        let s = (row * rgb.width + column) * 3
        plot(x: x + column, y: y + row, RGB(rgb.pixels[s], rgb.pixels[s + 1], rgb.pixels[s + 2]))
      }
    }
  }

  /// Blends colour-mapped `values` (row-major `width × height`, already 0…1) over the
  /// rectangle at `(x, y)`: `out = (1 − alpha) · under + alpha · colormap(v)`.
  public mutating func overlay(_ values: [Float], width w: Int, height h: Int, x: Int, y: Int, colormap: Colormap, alpha: Float) {
    precondition(values.count == w * h, "\(values.count) values for \(w)x\(h) pixels")
    for row in 0..<h {
      for column in 0..<w {
        let (r, g, b) = colormap.color(values[row * w + column])
        plot(x: x + column, y: y + row, RGB(r, g, b), opacity: alpha)
      }
    }
  }

  /// Fills a `w × h` rectangle with top-left (`x`, `y`), blended at `opacity` in [0, 1], clipped to
  /// the canvas.
  public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB, opacity: Float = 1) {
    for row in max(y, 0)..<max(min(y + h, height), max(y, 0)) {
      for column in max(x, 0)..<max(min(x + w, width), max(x, 0)) { plot(x: column, y: row, color, opacity: opacity) }
    }
  }

  /// A rectangle outline `thickness` pixels wide, drawn inside the rectangle's bounds.
  public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB, thickness: Int = 1) {
    fillRect(x: x, y: y, width: w, height: thickness, color)
    fillRect(x: x, y: y + h - thickness, width: w, height: thickness, color)
    fillRect(x: x, y: y, width: thickness, height: h, color)
    fillRect(x: x + w - thickness, y: y, width: thickness, height: h, color)
  }

  /// A straight line (Bresenham), `thickness` pixels wide.
  public mutating func line(from start: (x: Int, y: Int), to end: (x: Int, y: Int), _ color: RGB, thickness: Int = 1) {
    var (x, y) = start
    let dx = abs(end.x - x), dy = -abs(end.y - y)
    let sx = x < end.x ? 1 : -1, sy = y < end.y ? 1 : -1
    var error = dx + dy
    let half = thickness / 2
    while true {
      fillRect(x: x - half, y: y - half, width: thickness, height: thickness, color)
      if x == end.x && y == end.y { break }
      let e2 = 2 * error
      if e2 >= dy { error += dy; x += sx }
      if e2 <= dx { error += dx; y += sy }
    }
  }

  /// A disc (`filled`) or ring of `radius` pixels centred on `(cx, cy)`.
  public mutating func circle(cx: Int, cy: Int, radius: Int, _ color: RGB, filled: Bool = false, thickness: Int = 2) {
    let inner = Float(max(radius - thickness, 0))
    for y in (cy - radius)...(cy + radius) {
      for x in (cx - radius)...(cx + radius) {
        let d = Float((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot()
        if d <= Float(radius) + 0.5 && (filled || d >= inner - 0.5) { plot(x: x, y: y, color) }
      }
    }
  }

  /// Outlines the cells of a boolean grid mask (row-major `gridWidth × gridHeight`) drawn
  /// over the rectangle at `(x, y)` of `width × height` pixels: a line wherever a cell in the
  /// mask borders one outside it or the grid's edge.
  public mutating func contour(mask: [Bool], gridWidth: Int, gridHeight: Int, x: Int, y: Int, width w: Int, height h: Int, _ color: RGB, thickness: Int = 2) {
    precondition(mask.count == gridWidth * gridHeight, "mask has \(mask.count) cells for a \(gridWidth)x\(gridHeight) grid")
    func inside(_ c: Int, _ r: Int) -> Bool { c >= 0 && r >= 0 && c < gridWidth && r < gridHeight && mask[r * gridWidth + c] }
    func px(_ c: Int) -> Int { x + c * w / gridWidth }
    func py(_ r: Int) -> Int { y + r * h / gridHeight }
    let half = thickness / 2
    for r in 0..<gridHeight {
      for c in 0..<gridWidth where inside(c, r) {
        if !inside(c, r - 1) { fillRect(x: px(c) - half, y: py(r) - half, width: px(c + 1) - px(c) + thickness, height: thickness, color) }
        if !inside(c, r + 1) { fillRect(x: px(c) - half, y: py(r + 1) - half, width: px(c + 1) - px(c) + thickness, height: thickness, color) }
        if !inside(c - 1, r) { fillRect(x: px(c) - half, y: py(r) - half, width: thickness, height: py(r + 1) - py(r) + thickness, color) }
        if !inside(c + 1, r) { fillRect(x: px(c + 1) - half, y: py(r) - half, width: thickness, height: py(r + 1) - py(r) + thickness, color) }
      }
    }
  }
}
