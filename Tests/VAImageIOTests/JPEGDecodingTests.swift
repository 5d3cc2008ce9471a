import Foundation
import Testing
@testable import VAImageIO

struct JPEGDecodingTests {
  /// libjpeg-turbo's own test images against REFERENCE_RESULTS.txt (islow DCT, fancy
  /// upsampling, RGB out); the 12-bit ones must be refused.
  @Test func libjpegTurboTestImagesMatchTheirReferences() throws {
    let references = try referenceLines("jpeg/REFERENCE_RESULTS.txt")
    #expect(references.count == 5)
    for (name, fields) in references {
      let path = fixture("jpeg/" + name)
      if fields[0] == "ERROR" {
        #expect {
          try Image(contentsOfFile: path)
        } throws: { error in
          guard case .unsupported(_, .jpeg, let reason) = error as? ImageIOError else { return false }
          return reason.contains("12-bit")
        }
      } else {
        let image = try Image(contentsOfFile: path)
        #expect(crc32(image.pixels) == UInt32(fields[0]), "\(name)")
      }
    }
  }

  /// Variants written by Scripts/reference/image_fixtures.py, decoded by Pillow (same
  /// libjpeg-turbo settings) and turned upright with ImageOps.exif_transpose.
  @Test func generatedVariantsMatchPillow() throws {
    for (name, fields) in try referenceLines("generated/jpeg_reference.txt") where name != "cmyk.jpg" {
      let image = try Image(contentsOfFile: fixture("generated/jpeg/" + name))
      #expect([image.width, image.height, image.channels] == fields[0..<3].map { Int($0)! }, "\(name)")
      #expect(crc32(image.pixels) == UInt32(fields[3]), "\(name) pixels differ from Pillow's")
    }
  }

  /// Adobe CMYK: every pixel equal to Pillow's RGB conversion. cmyk.jpg has no black ink
  /// (Pillow's RGB → CMYK leaves K = 0); cmyk_ink.jpg ramps K from 0 to 255, where the
  /// rounding of c·k/255 shows (truncating instead differs on 4,035 of its 8,640 samples).
  @Test(arguments: ["cmyk", "cmyk_ink"])
  func adobeCMYKMatchesPillowExactly(name: String) throws {
    let image = try Image(contentsOfFile: fixture("generated/jpeg/\(name).jpg"))
    let reference = try Image(contentsOfFile: fixture("generated/jpeg/\(name)_reference.png"))
    #expect(image.channels == 3 && image.width == reference.width && image.height == reference.height)
    let differing = zip(image.pixels, reference.pixels).filter { $0 != $1 }.count
    #expect(differing == 0, "\(name): \(differing) samples differ from Pillow's")
  }

  @Test func orientationCanBeLeftAsStored() throws {
    let upright = try Image(contentsOfFile: fixture("generated/jpeg/orientation6.jpg"))
    let stored = try Image(contentsOfFile: fixture("generated/jpeg/orientation6.jpg"), options: DecodeOptions(applyExifOrientation: false))
    #expect((upright.width, upright.height) == (40, 72))
    #expect((stored.width, stored.height) == (72, 40))
    #expect(stored.oriented(exif: 6) == upright)
  }

  @Test(arguments: [
    "truncated30_q420.jpg", "truncated60_q420.jpg", "truncated95_q420.jpg",
    "truncated30_progressive.jpg", "truncated60_progressive.jpg", "truncated95_progressive.jpg",
  ])
  func truncatedFilesFailUnlessPartialIsAccepted(name: String) throws {
    let path = fixture("generated/jpeg/" + name)
    #expect {
      try Image(contentsOfFile: path)
    } throws: { error in
      guard case .truncated(let p, .jpeg, let reason) = error as? ImageIOError else { return false }
      return p == path && !reason.isEmpty
    }
    // Cut after the headers, libjpeg can fill in the rest; cut inside them, nothing can.
    if !name.hasPrefix("truncated30") {
      let partial = try Image(contentsOfFile: path, options: DecodeOptions(acceptPartial: true))
      #expect((partial.width, partial.height) == (72, 40))
    }
  }
}
