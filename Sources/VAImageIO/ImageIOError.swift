/// Errors thrown while reading or writing image files. Each names the file and the reason.
public enum ImageIOError: Error, Equatable, CustomStringConvertible {
  /// The path could not be read (missing, a folder, no permission).
  case unreadableFile(path: String, reason: String)
  /// The file is empty or starts with no known signature.
  case unsupportedFormat(path: String, signature: [UInt8])
  /// The data ends before the image does.
  case truncated(path: String, format: ImageFormat, reason: String)
  /// The data violates the format (bad CRC, bad header field, bad compressed data).
  case corrupt(path: String, format: ImageFormat, reason: String)
  /// A valid file of a variant this library refuses (12-bit JPEG, 5+ components).
  case unsupported(path: String, format: ImageFormat, reason: String)
  /// Over a `DecodeLimits` value; nothing large was allocated.
  case tooLarge(path: String, format: ImageFormat, reason: String)
  /// Writing the output failed; no partial file was left.
  case writeFailed(path: String, reason: String)

  /// `path: what went wrong`, e.g. "cat.png: PNG is corrupt: CRC error in IDAT".
  public var description: String {
    switch self {
    case .unreadableFile(let path, let reason):
      return "\(path): cannot read: \(reason)"
    case .unsupportedFormat(let path, let signature):
      if signature.isEmpty { return "\(path): not an image: the file is empty" }
      let hex = signature.prefix(8).map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }
      return "\(path): not a PNG or JPEG image: starts with bytes \(hex.joined(separator: " "))"
    case .truncated(let path, let format, let reason):
      return "\(path): \(format) is truncated: \(reason)"
    case .corrupt(let path, let format, let reason):
      return "\(path): \(format) is corrupt: \(reason)"
    case .unsupported(let path, let format, let reason):
      return "\(path): unsupported \(format): \(reason)"
    case .tooLarge(let path, let format, let reason):
      return "\(path): \(format) is too large: \(reason)"
    case .writeFailed(let path, let reason):
      return "\(path): cannot write: \(reason)"
    }
  }
}
