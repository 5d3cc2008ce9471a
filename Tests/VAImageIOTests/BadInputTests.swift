import Foundation
import Testing
@testable import VAImageIO

/// One test per class of bad input: the error kind, and a message naming the file and the
/// reason.
struct BadInputTests {
  /// A PNG chunk with a correct length and CRC.
  private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    let length = UInt32(data.count)
    let crc = crc32(typeBytes + data)
    return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
      + typeBytes + data + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
  }

  private func ihdr(width: UInt32, height: UInt32) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    return chunk("IHDR", be(width) + be(height) + [8, 0, 0, 0, 0])  // 8-bit gray
  }

  private func expectError(
    _ bytes: [UInt8], name: String = "bad.png", options: DecodeOptions = DecodeOptions(),
    matching: (ImageIOError) -> Bool, mentioning words: String..., sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      _ = try Image(decoding: bytes, name: name, options: options)
      Issue.record("decoded without an error", sourceLocation: sourceLocation)
    } catch {
      #expect(matching(error), "wrong kind: \(error)", sourceLocation: sourceLocation)
      #expect(error.description.hasPrefix(name + ": "), "\(error)", sourceLocation: sourceLocation)
      for word in words {
        #expect(error.description.contains(word), "'\(error)' lacks '\(word)'", sourceLocation: sourceLocation)
      }
    }
  }

  @Test func emptyFile() {
    expectError([], matching: { if case .unsupportedFormat = $0 { true } else { false } }, mentioning: "empty")
  }

  @Test func wrongMagic() {
    expectError(Array("GIF89a not an image".utf8), matching: { if case .unsupportedFormat = $0 { true } else { false } }, mentioning: "47 49 46")
  }

  @Test func signatureOnlyPNG() {
    expectError(ImageFormat.pngSignature, matching: { if case .truncated(_, .png, _) = $0 { true } else { false } }, mentioning: "no chunks")
  }

  @Test func truncatedPNG() throws {
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: fixture("pngsuite/basn2c08.png"))))
    for cut in [20, 40, bytes.count / 2, bytes.count - 5] {
      expectError(Array(bytes.prefix(cut)), matching: { if case .truncated(_, .png, _) = $0 { true } else { false } }, mentioning: "truncated")
    }
  }

  @Test func crcFailure() throws {
    var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: fixture("pngsuite/basn2c08.png"))))
    // Flip a byte of the IDAT chunk's stored CRC: the data is intact, the checksum is not.
    let idat = try #require((0..<(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual("IDAT".utf8) })
    let length = Int(bytes[idat - 4]) << 24 | Int(bytes[idat - 3]) << 16 | Int(bytes[idat - 2]) << 8 | Int(bytes[idat - 1])
    bytes[idat + 4 + length] ^= 0xFF
    expectError(bytes, matching: { if case .corrupt(_, .png, _) = $0 { true } else { false } }, mentioning: "CRC")
  }

  @Test func adlerFailure() throws {
    // A 1x1 gray image whose zlib stream has a wrong Adler-32 but correct chunk CRCs.
    var zlib: [UInt8] = [0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0x7F]  // stored block: filter 0, pixel 0x7F
    zlib += [0x00, 0x00, 0x00, 0x00]  // the correct Adler-32 would be 0x00800080
    let bytes = ImageFormat.pngSignature + ihdr(width: 1, height: 1) + chunk("IDAT", zlib) + chunk("IEND", [])
    expectError(bytes, matching: { if case .corrupt(_, .png, _) = $0 { true } else { false } }, mentioning: "check")
  }

  @Test func illegalHeaderFields() {
    var header = ihdr(width: 4, height: 4)
    header[8 + 8] = 3  // bit depth 3 does not exist
    header[8 + 13...8 + 16] = ArraySlice(chunk("IHDR", Array(header[8..<21]))[21...24])
    let bytes = ImageFormat.pngSignature + header + chunk("IEND", [])
    expectError(bytes, matching: { if case .corrupt(_, .png, _) = $0 { true } else { false } }, mentioning: "bit depth")
  }

  @Test func zeroDimensions() {
    let bytes = ImageFormat.pngSignature + ihdr(width: 0, height: 16) + chunk("IEND", [])
    expectError(bytes, matching: { if case .corrupt(_, .png, _) = $0 { true } else { false } }, mentioning: "zero")
  }

  @Test func absurdDimensions() {
    let bytes = ImageFormat.pngSignature + ihdr(width: 1_000_000, height: 16) + chunk("IEND", [])
    expectError(bytes, matching: { if case .tooLarge(_, .png, _) = $0 { true } else { false } }, mentioning: "per side")
  }

  @Test func decompressionBomb() {
    // 20000 x 20000 = 400 megapixels claimed by a file of a few dozen bytes.
    let bytes = ImageFormat.pngSignature + ihdr(width: 20_000, height: 20_000) + chunk("IDAT", [0x78, 0x01]) + chunk("IEND", [])
    expectError(bytes, matching: { if case .tooLarge(_, .png, _) = $0 { true } else { false } }, mentioning: "400000000 pixels")
    var limits = DecodeLimits()
    limits.maxPixels = 100
    let small = ImageFormat.pngSignature + ihdr(width: 11, height: 10) + chunk("IEND", [])
    expectError(small, options: DecodeOptions(limits: limits), matching: { if case .tooLarge = $0 { true } else { false } }, mentioning: "limit of 100")
  }

  /// libpng 1.6.39 would allocate the 2 GiB this 45-byte file claims.
  @Test func hugeAncillaryChunk() {
    let claim: [UInt8] = [0x7F, 0xFF, 0xFF, 0xF0] + Array("tEXt".utf8) + [0, 0, 0, 0]
    let bytes = ImageFormat.pngSignature + ihdr(width: 1, height: 1) + claim
    #expect(bytes.count == 45)
    expectError(bytes, matching: { if case .tooLarge(_, .png, _) = $0 { true } else { false } }, mentioning: "tEXt", "2147483632")
  }

  @Test func twelveBitJPEG() {
    let path = fixture("jpeg/testorig12.jpg")
    #expect(throws: ImageIOError.self) { try Image(contentsOfFile: path) }
  }

  @Test func tooManyJPEGComponents() {
    // SOI, then a baseline SOF0 declaring 8-bit samples and 5 components.
    var sof: [UInt8] = [0xFF, 0xC0, 0x00, 8 + 15, 8, 0, 8, 0, 8, 5]
    for id in 1...5 { sof += [UInt8(id), 0x11, 0] }
    expectError([0xFF, 0xD8] + sof + [0xFF, 0xD9], name: "five.jpg", matching: { if case .unsupported(_, .jpeg, _) = $0 { true } else { false } }, mentioning: "5 colour components")
  }

  @Test func tooManyJPEGScans() throws {
    // A real progressive file with its last scan repeated until there are 150 scans; the
    // marker walk refuses it before libjpeg spends time on any.
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: fixture("generated/jpeg/progressive.jpg"))))
    let sos = try #require((0..<(bytes.count - 1)).last { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
    let lastScan = Array(bytes[sos..<(bytes.count - 2)])
    let scans = JPEGMarkerWalk(try #require(bytes.withUnsafeBytes { Optional($0) })).scans
    var many = Array(bytes[..<(bytes.count - 2)])
    for _ in 0..<(150 - scans) { many += lastScan }
    many += [0xFF, 0xD9]
    expectError(many, name: "scans.jpg", matching: { if case .tooLarge(_, .jpeg, _) = $0 { true } else { false } }, mentioning: "150 scans", "limit of 100")
  }

  @Test func corruptJPEGData() throws {
    var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: fixture("generated/jpeg/q420.jpg"))))
    let sos = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
    // Overwrite the Huffman table class/id of the first scan component with nonsense.
    bytes[sos + 6] = 0xEE
    expectError(bytes, name: "bad.jpg", matching: { if case .corrupt(_, .jpeg, _) = $0 { true } else { false } })
  }

  @Test func missingPathAndFolder() throws {
    let scratch = ScratchFolder()
    #expect {
      try Image(contentsOfFile: scratch.file("nothing.png"))
    } throws: { error in
      guard case .unreadableFile(_, let reason) = error as? ImageIOError else { return false }
      return reason.contains("no such file")
    }
    #expect {
      try Image(contentsOfFile: scratch.path)
    } throws: { error in
      guard case .unreadableFile(_, let reason) = error as? ImageIOError else { return false }
      return reason.contains("folder")
    }
  }
}
