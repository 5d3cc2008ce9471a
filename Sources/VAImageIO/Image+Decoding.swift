import CVAImageCodecs
import Foundation

/// Decoded samples at their stored bit depth: 8-bit samples as they are, 16-bit samples
/// exact (only PNG has them). Layout as `Image`: interleaved, rows top to bottom.
public struct Samples16: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Channels per pixel: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
  public let channels: Int
  /// 8 or 16.
  public let bitsPerSample: Int
  /// The samples, `[(y · width + x) · channels + c]`, each in `0 ..< 2^bitsPerSample`.
  public let samples: [UInt16]
}

extension Image {
  /// Reads and decodes a PNG or JPEG file; the format comes from the file's first bytes.
  /// - Throws: `ImageIOError` naming the file and the reason.
  public init(contentsOfFile path: String, options: DecodeOptions = DecodeOptions()) throws(ImageIOError) {
    try self.init(decoding: try Self.readFile(path), name: path, options: options)
  }

  /// Decodes PNG or JPEG bytes. `name` is used in error messages.
  public init(decoding bytes: [UInt8], name: String, options: DecodeOptions = DecodeOptions()) throws(ImageIOError) {
    let decoded = try Self.decode(bytes, name: name, options: options, keep16: false)
    var image = Image(
      width: decoded.width, height: decoded.height, channels: decoded.channels,
      pixels: decoded.bytes)
    if decoded.format == .jpeg, options.applyExifOrientation, let orientation = decoded.orientation {
      image = image.oriented(exif: orientation)
    }
    self = image
  }

  /// Decodes a PNG keeping 16-bit samples exact (other inputs come back at 8 bits).
  public static func samples16(contentsOfFile path: String, options: DecodeOptions = DecodeOptions()) throws(ImageIOError) -> Samples16 {
    try samples16(decoding: try readFile(path), name: path, options: options)
  }

  /// Decodes PNG bytes keeping 16-bit samples exact (other inputs come back at 8 bits).
  /// `name` is used in error messages.
  public static func samples16(decoding bytes: [UInt8], name: String, options: DecodeOptions = DecodeOptions()) throws(ImageIOError) -> Samples16 {
    let decoded = try decode(bytes, name: name, options: options, keep16: true)
    let samples: [UInt16] =
      decoded.bits == 16
      ? decoded.bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
      : decoded.bytes.map(UInt16.init)
    return Samples16(width: decoded.width, height: decoded.height, channels: decoded.channels, bitsPerSample: decoded.bits, samples: samples)
  }

  static func readFile(_ path: String) throws(ImageIOError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .unreadableFile(path: path, reason: "no such file")
    }
    if isDirectory.boolValue { throw .unreadableFile(path: path, reason: "it is a folder, not a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadableFile(path: path, reason: "permission denied or not a regular file")
    }
    return [UInt8](data)
  }

  private struct Decoded {
    var format: ImageFormat
    var width: Int
    var height: Int
    var channels: Int
    var bits: Int
    var bytes: [UInt8]
    var orientation: Int?
  }

  private static func decode(_ bytes: [UInt8], name: String, options: DecodeOptions, keep16: Bool) throws(ImageIOError) -> Decoded {
    guard let format = ImageFormat.detect(bytes) else {
      throw .unsupportedFormat(path: name, signature: Array(bytes.prefix(8)))
    }
    let limits = options.limits
    var cLimits = cva_limits(
      max_pixels: UInt64(limits.maxPixels), max_side: UInt32(clamping: limits.maxSide),
      max_decoded_bytes: UInt64(limits.maxDecodedBytes), max_scans: UInt32(clamping: limits.maxJPEGScans),
      accept_partial: options.acceptPartial ? 1 : 0)
    var image = cva_image()
    var message = [CChar](repeating: 0, count: Int(CVA_MESSAGE_CAPACITY))
    var orientation: Int?
    // withUnsafeBytes does not carry typed throws, so the closure returns a Result.
    let outcome = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Result<Int32, ImageIOError> in
      Result { () throws(ImageIOError) -> Int32 in
        let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        switch format {
        case .png:
          try checkChunks(raw, name: name, limits: limits)
          return cva_png_decode(base, raw.count, &cLimits, keep16 ? 1 : 0, &image, &message)
        case .jpeg:
          let walk = try checkMarkers(raw, name: name, limits: limits)
          orientation = walk.orientation
          let status = cva_jpeg_decode(base, raw.count, &cLimits, &image, &message)
          // libjpeg reports a file cut inside its headers as a structure error; the walk
          // knows the data simply stopped.
          if status == CVA_STATUS_CORRUPT, !walk.complete {
            throw .truncated(path: name, format: .jpeg, reason: "file ends before the image does (\(String(cString: message)))")
          }
          return status
        }
      }
    }
    let status = try outcome.get()
    defer { cva_free(image.pixels) }
    try check(status, message: message, name: name, format: format)
    let pixels = [UInt8](UnsafeRawBufferPointer(start: image.pixels, count: image.byte_count))
    return Decoded(
      format: format, width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
      bits: Int(image.bits_per_sample), bytes: pixels, orientation: orientation)
  }

  private static func checkChunks(_ raw: UnsafeRawBufferPointer, name: String, limits: DecodeLimits) throws(ImageIOError) {
    do throws(PNGChunkWalk.Failure) {
      try PNGChunkWalk.check(raw, limits: limits)
    } catch {
      switch error {
      case .truncated(let reason): throw .truncated(path: name, format: .png, reason: reason)
      case .corrupt(let reason): throw .corrupt(path: name, format: .png, reason: reason)
      case .tooLarge(let reason): throw .tooLarge(path: name, format: .png, reason: reason)
      }
    }
  }

  /// Refuses what libjpeg should never start on.
  private static func checkMarkers(_ raw: UnsafeRawBufferPointer, name: String, limits: DecodeLimits) throws(ImageIOError) -> JPEGMarkerWalk {
    let walk = JPEGMarkerWalk(raw)
    if walk.precision != 8 {
      throw .unsupported(path: name, format: .jpeg, reason: "\(walk.precision)-bit samples (only 8-bit JPEG is supported)")
    }
    if walk.components > 4 {
      throw .unsupported(path: name, format: .jpeg, reason: "\(walk.components) colour components (at most 4 are supported)")
    }
    if walk.scans > limits.maxJPEGScans {
      throw .tooLarge(path: name, format: .jpeg, reason: "\(walk.scans) scans, over the limit of \(limits.maxJPEGScans)")
    }
    return walk
  }

  /// The one place a shim status becomes an `ImageIOError`.
  static func check(_ status: Int32, message: [CChar], name: String, format: ImageFormat) throws(ImageIOError) {
    guard status != CVA_STATUS_OK else { return }
    let reason = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    switch status {
    case CVA_STATUS_TRUNCATED: throw .truncated(path: name, format: format, reason: reason)
    case CVA_STATUS_UNSUPPORTED: throw .unsupported(path: name, format: format, reason: reason)
    case CVA_STATUS_TOO_LARGE, CVA_STATUS_NO_MEMORY: throw .tooLarge(path: name, format: format, reason: reason)
    default: throw .corrupt(path: name, format: format, reason: reason)
    }
  }
}
