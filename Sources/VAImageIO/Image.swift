/// An 8-bit image held in memory: interleaved channels, rows top to bottom.
///
/// Layout: `pixels[(y * width + x) * channels + c]`, so `pixels.count == width * height * channels`.
/// Channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
public struct Image: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Channels per pixel: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
  public let channels: Int
  /// The samples, `pixels[(y * width + x) * channels + c]`, `width · height · channels` of them.
  public var pixels: [UInt8]

  /// Wraps `pixels`; the count must equal `width * height * channels`.
  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(width > 0 && height > 0, "image size must be positive, got \(width)x\(height)")
    precondition((1...4).contains(channels), "channels must be 1...4, got \(channels)")
    precondition(
      pixels.count == width * height * channels,
      "pixel count \(pixels.count) != \(width)x\(height)x\(channels)")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// A blank image filled with `value` in every channel.
  public init(width: Int, height: Int, channels: Int, filledWith value: UInt8 = 0) {
    self.init(
      width: width, height: height, channels: channels,
      pixels: [UInt8](repeating: value, count: width * height * channels))
  }
}
