/// Walks a PNG's chunk headers before libpng sees the file.
///
/// libpng 1.6.39 allocates whatever length an ancillary chunk header claims, so a 44-byte
/// file claiming a 2 GiB text chunk would make it allocate 2 GiB. This walk reads only the
/// 8-byte headers, checks every length against the file and the limits, and stops at IEND.
/// CRCs, IHDR fields and the compressed data are left to libpng.
struct PNGChunkWalk {
  enum Failure: Error, Equatable {
    case truncated(String)
    case corrupt(String)
    case tooLarge(String)
  }

  /// Checks the chunk layout of `bytes` (which start with the PNG signature).
  static func check(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(Failure) {
    let maxAncillaryBytes = limits.maxAncillaryChunkBytes
    var offset = ImageFormat.pngSignature.count
    var index = 0
    while true {
      guard bytes.count - offset >= 8 else {
        throw .truncated(index == 0 ? "no chunks after the signature" : "file ends before the IEND chunk")
      }
      let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
      let type = Array(bytes[(offset + 4)..<(offset + 8)])
      guard type.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
        throw .corrupt("invalid chunk type at byte \(offset + 4)")
      }
      let name = String(decoding: type, as: UTF8.self)
      guard length <= Int(Int32.max) else {
        throw .corrupt("\(name) chunk claims \(length) bytes, over PNG's 2^31-1 limit")
      }
      if index == 0, name != "IHDR" {
        throw .corrupt("first chunk is \(name), expected IHDR")
      }
      // Bit 5 of the first type byte marks an ancillary chunk.
      let ancillary = type[0] & 0x20 != 0
      if ancillary, length > maxAncillaryBytes {
        throw .tooLarge("\(name) chunk of \(length) bytes, over the limit of \(maxAncillaryBytes)")
      }
      if name == "IHDR", length == 13, bytes.count - offset >= 16 {
        try checkDimensions(bytes, at: offset + 8, limits: limits)
      }
      guard bytes.count - offset - 12 >= length else {
        throw .truncated("\(name) chunk of \(length) bytes ends past the end of the file")
      }
      offset += 12 + length
      index += 1
      if name == "IEND" { return }
    }
  }

  /// Refuses an IHDR whose dimensions are over the limits before any pixel is allocated:
  /// a few hundred bytes of zlib can claim gigapixels (a decompression bomb).
  private static func checkDimensions(_ bytes: UnsafeRawBufferPointer, at offset: Int, limits: DecodeLimits) throws(Failure) {
    func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
    let width = u32(offset), height = u32(offset + 4)
    guard width > 0, height > 0 else { throw .corrupt("image is \(width)x\(height) pixels: zero size") }
    if width > limits.maxSide || height > limits.maxSide {
      throw .tooLarge("image is \(width)x\(height) pixels, over the limit of \(limits.maxSide) per side")
    }
    if width * height > limits.maxPixels {
      throw .tooLarge("image is \(width)x\(height) = \(width * height) pixels, over the limit of \(limits.maxPixels)")
    }
  }
}
