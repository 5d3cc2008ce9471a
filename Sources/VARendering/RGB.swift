/// An 8-bit RGB colour.
public struct RGB: Sendable, Equatable {
  /// Red, 0–255.
  public var r: UInt8
  /// Green, 0–255.
  public var g: UInt8
  /// Blue, 0–255.
  public var b: UInt8

  /// The colour with these red, green and blue values.
  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
    self.r = r
    self.g = g
    self.b = b
  }

  /// The figures' background.
  public static let white = RGB(255, 255, 255)
  /// Pure black.
  public static let black = RGB(0, 0, 0)
  /// Near-black text colour, softer than `black` on white.
  public static let text = RGB(30, 30, 30)
  /// Colour-blind-safe marker colours (Okabe & Ito 2008), for colour-coded query points.
  public static let markers: [RGB] = [
    RGB(0, 158, 115), RGB(230, 159, 0), RGB(86, 180, 233), RGB(240, 228, 66),
    RGB(0, 114, 178), RGB(213, 94, 0), RGB(204, 121, 167),
  ]
}
