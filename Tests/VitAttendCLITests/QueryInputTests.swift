import Foundation
import VAImageIO
import Testing
@testable import VisionAttention
@testable import VitAttendCLI

/// `--query` as pixels or fractions, negative values, the crop's strips and the built-in
/// model's limit on enlarging small images.
struct QueryInputTests {
  @Test(arguments: [
    ("0.4,0.3", QueryPoint(x: .fraction(0.4), y: .fraction(0.3))),
    ("-5,10", QueryPoint(x: -5, y: 10)),
    ("1.0,0", QueryPoint(x: .fraction(1), y: .pixel(0))),
    (".5,120", QueryPoint(x: .fraction(0.5), y: .pixel(120))),
  ])
  func pixelsAndFractionsParse(_ text: String, _ expected: QueryPoint) throws {
    #expect(try QueryPoint.parse(text) == expected)
  }

  /// Fractions pick pixel ⌊f · size⌋, 1.0 the last one; pixels must lie inside the image.
  @Test func queriesResolveAgainstTheImage() throws {
    let (x, y) = try QueryPoint.parse("0.4,1.0").resolved(width: 451, height: 300)
    #expect((x, y) == (180, 299))
    #expect(throws: VisionAttentionError.queryOutsideImage(x: -5, y: 10, width: 451, height: 300)) {
      try QueryPoint.parse("-5,10").resolved(width: 451, height: 300)
    }
    #expect(throws: VisionAttentionError.queryOutsideImage(x: 451, y: 0, width: 451, height: 300)) {
      try QueryPoint(x: 451, y: 0).resolved(width: 451, height: 300)
    }
  }

  /// 451x300 at its own size keeps 448x288 from (1, 6): x 0 and y 0...5 are cropped away.
  @Test func aQueryInACroppedStripIsRefusedNamingTheCrop() throws {
    let g = try InputGeometry(originalWidth: 451, originalHeight: 300, patchSize: 16, longerSide: nil)
    #expect(g.queryable(horizontal: true) == 1...448 && g.queryable(horizontal: false) == 6...293)
    #expect(throws: Never.self) { try g.checkQueryable(x: 1, y: 6) }
    do {
      try g.checkQueryable(x: 0, y: 100)
      Issue.record("x = 0 lies in the cropped strip")
    } catch {
      #expect(error == .queryInCroppedStrip(x: 0, y: 100, keptX: 1...448, keptY: 6...293, crop: "the image is cropped to 448x288, a multiple of the 16-pixel patch"))
      #expect(error.description.contains("x 1...448"))
    }
  }

  /// The built-in model enlarges a 64x64 image to 128, not 480; a large one still fits 480.
  @Test func smallImagesAreEnlargedAtMostTwice() throws {
    let small = try InputGeometry(originalWidth: 64, originalHeight: 64, patchSize: 16, longerSide: 480, maximumUpscale: BuiltInModel().maximumUpscale)
    #expect((small.width, small.height, small.scale) == (128, 128, 2))
    let large = try InputGeometry(originalWidth: 451, originalHeight: 300, patchSize: 16, longerSide: 480, maximumUpscale: 2)
    #expect(large.resizedWidth == 480)
    let checkpoint = try InputGeometry(originalWidth: 64, originalHeight: 64, patchSize: 16, longerSide: 224, maximumUpscale: nil)
    #expect(checkpoint.width == 224)
  }
}

/// The same through the built binary.
@Suite(.serialized) struct QueryCommandTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")

  /// `--query -5,10` is a value, not an option; both spellings say where the image is.
  @Test(arguments: [["--query", "-5,10"], ["--query=-5,10"]])
  func negativeQueriesAreOutOfImageErrors(_ option: [String]) throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "--out", scratch.file("o.png")] + option)
    #expect(result.status == 1, "\(result.error)")
    #expect(result.error.contains("--query -5,10 is outside the 451x300 image (x from 0 to 450, y from 0 to 299)"), "\(result.error)")
    #expect(scratch.contents.isEmpty)
  }

  @Test func fractionsNameThePixelTheyPick() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "--map", "query", "--query", "0.4,0.3", "--out", scratch.file("f.png")])
    #expect(result.status == 0, "\(result.error)")
    #expect(try pngText(scratch.file("f.png"))["query"] == "180,90")
  }

  @Test func badQueryTextIsAUsageError() throws {
    let result = try CommandRunner.run([cat, "--out", "/dev/null", "--query", "1.5,0.2"])
    #expect(result.status == 64 && result.error.contains("fraction of the width, which must lie between 0 and 1"), "\(result.error)")
  }

  @Test func aQueryInTheCroppedStripNamesTheCrop() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "--resize", "none", "--query", "0,100", "--out", scratch.file("o.png")])
    #expect(result.status == 1)
    #expect(result.error.contains("lies in a strip that cropping removes (the image is cropped to 448x288"), "\(result.error)")
  }

  /// A 64-pixel image: the model input is 128 pixels (2×), and the page embeds that.
  @Test func smallImagesStaySmall() throws {
    let scratch = ScratchFolder()
    let star = CommandRunner.repositoryFile("images/shapeworld-star.png")
    let result = try CommandRunner.run([star, "--out", scratch.file("f.png"), "--html", scratch.file("p.html")])
    #expect(result.status == 0, "\(result.error)")
    let page = try String(contentsOfFile: scratch.file("p.html"), encoding: .utf8)
    #expect(page.utf8.count < 300_000, "page is \(page.utf8.count) bytes")
    #expect(try pngText(scratch.file("f.png"))["query"] == "32,32")
  }

  /// Maps that ignore the query (the class token's) draw no query marker on the input.
  @Test(arguments: [("cls", false), ("query", true)])
  func theMarkerIsDrawnOnlyWhenTheMapUsesTheQuery(_ map: String, _ marked: Bool) throws {
    let scratch = ScratchFolder()
    let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
    let result = try CommandRunner.run([cat, "--weights", timm, "--map", map, "--query", "170,113", "--out", scratch.file("f.png")])
    #expect(result.status == 0, "\(result.error)")
    let figure = try Image(contentsOfFile: scratch.file("f.png")).rgb()
    // The input panel: 64x32 model input shown 4x from the figure's 14-pixel margin.
    var ring = 0
    for y in 0..<figure.height {
      for x in 14..<(14 + 256) {
        let i = (y * figure.width + x) * 3
        if (figure.pixels[i], figure.pixels[i + 1], figure.pixels[i + 2]) == (0, 158, 115) { ring += 1 }
      }
    }
    #expect(marked ? ring > 20 : ring == 0, "\(ring) marker pixels on the input of --map \(map)")
  }
}
