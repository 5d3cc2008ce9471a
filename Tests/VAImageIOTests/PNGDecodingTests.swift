import Foundation
import Testing
@testable import VAImageIO

/// PngSuite against the CRC32 of libpng's expand + strip-16 pixels (no gamma), and the
/// corrupt `x*` files.
struct PNGDecodingTests {
  @Test func everyValidPngSuiteFileDecodesToTheReferencePixels() throws {
    let references = try referenceLines("pngsuite/REFERENCE_CRC32_expand_strip16.txt").filter { UInt32($0.fields[0]) != nil }
    #expect(references.count == 161)
    var mismatches: [String] = []
    for (name, fields) in references {
      let image = try Image(contentsOfFile: fixture("pngsuite/" + name))
      if crc32(image.pixels) != UInt32(fields[0]) { mismatches.append(name) }
    }
    #expect(mismatches.isEmpty, "pixels differ from libpng's for \(mismatches)")
  }

  @Test func everyCorruptPngSuiteFileIsRejectedWithItsName() throws {
    let folder = fixture("pngsuite")
    let corrupt = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("x") }.sorted()
    #expect(corrupt.count == 14)
    for name in corrupt {
      let path = folder + "/" + name
      #expect(throws: ImageIOError.self, "\(name) decoded") { try Image(contentsOfFile: path) }
      do {
        _ = try Image(contentsOfFile: path)
      } catch {
        #expect(error.description.hasPrefix(path + ": "), "message does not name the file: \(error)")
      }
    }
  }

  @Test func sixteenBitSamplesAreExact() throws {
    let references = try referenceLines("generated/png16_samples.txt")
    #expect(references.count >= 20)
    for (name, fields) in references {
      let decoded = try Image.samples16(contentsOfFile: fixture("pngsuite/" + name))
      #expect(decoded.bitsPerSample == 16)
      #expect([decoded.width, decoded.height, decoded.channels] == fields[0..<3].map { Int($0)! }, "\(name)")
      let bytes = decoded.samples.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
      #expect(crc32(bytes) == UInt32(fields[3]), "\(name): 16-bit samples differ from pypng's")
      // The 8-bit path keeps the high byte of each sample, as png_set_strip_16 does.
      let eight = try Image(contentsOfFile: fixture("pngsuite/" + name))
      #expect(eight.pixels == decoded.samples.map { UInt8($0 >> 8) }, "\(name)")
    }
  }

  @Test(arguments: [1, 2, 3, 4])
  func encodeThenDecodeIsBitExact(channels: Int) throws {
    // Seeded, so a failure reproduces (VAImageIOTests does not link VATensorCore's SplitMix64).
    var generator = SeededGenerator(seed: UInt64(channels))
    let pixels = (0..<(37 * 23 * channels)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let image = Image(width: 37, height: 23, channels: channels, pixels: pixels)
    let decoded = try Image(decoding: image.pngData(), name: "roundtrip")
    #expect(decoded == image)
  }

  @Test func textChunksAreWritten() throws {
    let image = Image(width: 4, height: 3, channels: 3, filledWith: 9)
    let bytes = try image.pngData(text: [("model", "descriptor-attention"), ("query", "170,113")])
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.contains("tEXtmodel\0descriptor-attention"))
    #expect(text.contains("tEXtquery\0170,113"))
    #expect(try Image(decoding: bytes, name: "text") == image)
  }

  @Test func writePNGLeavesNoTemporaryFiles() throws {
    let scratch = ScratchFolder()
    let image = Image(width: 5, height: 5, channels: 1, filledWith: 200)
    try image.writePNG(to: scratch.file("out.png"))
    #expect(try Image(contentsOfFile: scratch.file("out.png")) == image)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["out.png"])
    #expect(throws: ImageIOError.self) { try image.writePNG(to: scratch.file("missing/out.png")) }
  }
}

/// SplitMix64 (Steele et al. 2014): a small seeded generator for reproducible test data.
private struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
