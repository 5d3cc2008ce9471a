/// The file formats ImageIO reads, recognised by their first bytes, never by file name.
public enum ImageFormat: String, Sendable, CustomStringConvertible {
  /// PNG, signature `89 50 4E 47 0D 0A 1A 0A`, decoded with libpng.
  case png = "PNG"
  /// JPEG, signature `FF D8 FF`, decoded with libjpeg-turbo.
  case jpeg = "JPEG"

  static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// The format whose signature `bytes` start with, or nil.
  public static func detect<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> ImageFormat?
  where Bytes.Element == UInt8, Bytes.Index == Int {
    if bytes.count >= 8, bytes.prefix(8).elementsEqual(pngSignature) { return .png }
    // SOI followed by the first byte of any marker.
    if bytes.count >= 3, bytes[bytes.startIndex] == 0xFF, bytes[bytes.startIndex + 1] == 0xD8,
      bytes[bytes.startIndex + 2] == 0xFF
    {
      return .jpeg
    }
    return nil
  }

  /// `PNG` or `JPEG`, as messages name the format.
  public var description: String { rawValue }
}
