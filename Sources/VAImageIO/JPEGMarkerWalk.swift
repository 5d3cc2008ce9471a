/// Walks a JPEG's markers before libjpeg decodes it: frame header facts, the number of
/// scans, and the EXIF orientation.
///
/// The scan count is checked up front because each progressive scan is a pass over the
/// whole image: a 200 KB file with thousands of scans would cost a minute of CPU.
struct JPEGMarkerWalk {
  /// Sample precision from the SOF header (8, or 12 for the extended process).
  var precision = 8
  var components = 0
  var progressive = false
  var scans = 0
  /// EXIF orientation 1-8, or nil when absent or unreadable.
  var orientation: Int?
  /// Whether the walk reached the EOI marker; false means the file ends early.
  var complete = false

  init(_ bytes: UnsafeRawBufferPointer) {
    var offset = 2  // past SOI
    let count = bytes.count
    while offset + 1 < count {
      guard bytes[offset] == 0xFF else { offset += 1; continue }
      let marker = bytes[offset + 1]
      offset += 2
      switch marker {
      case 0xFF, 0x00, 0x01, 0xD0...0xD8:
        // Fill bytes, stuffed zeros, TEM, RSTn and SOI carry no length.
        if marker == 0xFF { offset -= 1 }
        continue
      case 0xD9:
        complete = true
        return
      default:
        break
      }
      guard offset + 2 <= count else { return }
      let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
      guard length >= 2, offset + length <= count else { return }
      let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<(offset + length)])
      switch marker {
      case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
        if payload.count >= 6 {
          precision = Int(payload[0])
          components = Int(payload[5])
        }
        progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(marker)
      case 0xE1 where orientation == nil:
        orientation = Self.exifOrientation(payload)
      case 0xDA:
        scans += 1
        // Skip the entropy-coded data: it ends at the first 0xFF that is not a stuffed
        // zero or a restart marker.
        offset += length
        while offset + 1 < count {
          if bytes[offset] == 0xFF, bytes[offset + 1] != 0x00, !(0xD0...0xD7).contains(bytes[offset + 1]) { break }
          offset += 1
        }
        continue
      default:
        break
      }
      offset += length
    }
  }

  /// Reads tag 0x0112 from the first image directory of an APP1 "Exif" payload. Every
  /// offset is bounds-checked; only the first directory is read, so there are no loops to
  /// follow.
  static func exifOrientation(_ app1: UnsafeRawBufferPointer) -> Int? {
    let header: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
    guard app1.count >= 14, app1.prefix(6).elementsEqual(header) else { return nil }
    let tiff = UnsafeRawBufferPointer(rebasing: app1[6...])
    let little: Bool
    switch (tiff[0], tiff[1]) {
    case (0x49, 0x49): little = true
    case (0x4D, 0x4D): little = false
    default: return nil
    }
    func u16(_ at: Int) -> Int? {
      guard at >= 0, at + 2 <= tiff.count else { return nil }
      return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
    }
    func u32(_ at: Int) -> Int? {
      guard let a = u16(at), let b = u16(at + 2) else { return nil }
      return little ? a | b << 16 : a << 16 | b
    }
    guard u16(2) == 42, let directory = u32(4), let entries = u16(directory) else { return nil }
    for entry in 0..<entries {
      let at = directory + 2 + entry * 12
      guard let tag = u16(at), let type = u16(at + 2) else { return nil }
      if tag == 0x0112, type == 3, let value = u16(at + 8), (1...8).contains(value) {
        return value
      }
    }
    return nil
  }
}
