import Testing
@testable import VisionAttention

/// An image the resizing policy would leave smaller than one patch is enlarged by the
/// smallest whole factor that gives each side a patch, nearest neighbour (issue 25: the
/// built-in model's "at most twice" once refused 1×1 … 7×7 images).
struct TinyImageGeometryTests {
  /// The built-in model (16-pixel patches, at most 2× under `fit`): sides 1…7 need factors
  /// ⌈16/s⌉, and the enlarged image is centre-cropped to one patch.
  @Test(arguments: 1...7)
  func builtInFitEnlargesBelowOnePatch(side: Int) throws {
    let g = try InputGeometry(originalWidth: side, originalHeight: side, patchSize: 16, longerSide: 480, maximumUpscale: 2)
    let factor = (16 + side - 1) / side
    #expect(g.enlargement == factor && g.scale == Double(factor))
    #expect((g.resizedWidth, g.resizedHeight) == (side * factor, side * factor))
    #expect((g.width, g.height) == (16, 16))
    #expect((g.cropX, g.cropY) == ((side * factor - 16) / 2, (side * factor - 16) / 2))
  }

  /// Eight pixels and up, twice is a patch: the policy holds and nothing is marked enlarged.
  @Test func thePolicyHoldsOnceTwiceIsAPatch() throws {
    let g = try InputGeometry(originalWidth: 8, originalHeight: 32, patchSize: 16, longerSide: 480, maximumUpscale: 2)
    #expect(g.enlargement == nil && g.scale == 2 && (g.width, g.height) == (16, 64))
  }

  /// `--resize none` keeps a patch-sized image's pixels and enlarges a smaller one; a
  /// non-square image takes its factor from the shorter side.
  @Test func noneEnlargesOnlyBelowOnePatch() throws {
    let kept = try InputGeometry(originalWidth: 16, originalHeight: 20, patchSize: 16, longerSide: nil)
    #expect(kept.enlargement == nil && kept.scale == 1 && (kept.width, kept.height) == (16, 16))
    let wide = try InputGeometry(originalWidth: 40, originalHeight: 5, patchSize: 16, longerSide: nil)
    #expect(wide.enlargement == 4 && (wide.resizedWidth, wide.resizedHeight) == (160, 20))
    #expect((wide.width, wide.height, wide.cropX, wide.cropY) == (160, 16, 0, 2))
  }

  /// A checkpoint's `fit` (no upscale limit) enlarges a 1×1 image bicubically to its size;
  /// only an image too thin for that is enlarged pixel for pixel.
  @Test func checkpointFitFallsBackOnlyForSlivers() throws {
    let dot = try InputGeometry(originalWidth: 1, originalHeight: 1, patchSize: 16, longerSide: 224)
    #expect(dot.enlargement == nil && (dot.width, dot.height) == (224, 224))
    let strip = try InputGeometry(originalWidth: 300, originalHeight: 2, patchSize: 16, longerSide: 224)
    #expect(strip.enlargement == 8 && (strip.resizedWidth, strip.resizedHeight) == (2400, 16))
  }

  /// Query pixels map onto the enlarged image: pixel (x, y) of a 4×4 image enlarged 4× is
  /// patch (0, 0), whose centre is the file's centre.
  @Test func queriesMapThroughTheFactor() throws {
    let g = try InputGeometry(originalWidth: 4, originalHeight: 4, patchSize: 16, longerSide: 480, maximumUpscale: 2)
    #expect(g.patch(atOriginalX: 3, y: 0) == (column: 0, row: 0))
    let peak = g.peak(of: [1])
    #expect(peak.x == 2 && peak.y == 2)
    #expect(g.queryable(horizontal: true) == 0...3)
  }

  /// A sliver whose longer side would pass 32,768 pixels is refused with its size.
  @Test func aSliverIsRefused() {
    #expect(throws: VisionAttentionError.imageTooSmall(width: 3000, height: 1, patchSize: 16)) {
      try InputGeometry(originalWidth: 3000, originalHeight: 1, patchSize: 16, longerSide: nil)
    }
    #expect(VisionAttentionError.imageTooSmall(width: 3000, height: 1, patchSize: 16).description.contains("3000x1"))
  }

  /// The model input is the decoded pixels repeated `factor` times each way, then cropped:
  /// a 3×2 image's shorter side needs 8× (24×16), centre-cropped to 16×16.
  @Test func preparedPixelsAreRepeatedNotBlurred() throws {
    var pixels: [UInt8] = []
    for i in 0..<(3 * 2 * 3) { pixels.append(UInt8(i * 13 % 256)) }
    let image = Image(width: 3, height: 2, channels: 3, pixels: pixels)
    let prepared = try PreparedImage(image, for: BuiltInModel(), resize: .none)
    let g = prepared.geometry
    #expect(g.enlargement == 8 && (g.width, g.height, g.cropX, g.cropY) == (16, 16, 4, 0))
    for y in 0..<16 {
      for x in 0..<16 {
        let (sx, sy) = ((x + g.cropX) / 8, (y + g.cropY) / 8)
        for c in 0..<3 {
          #expect(prepared.image.pixels[(y * 16 + x) * 3 + c] == pixels[(sy * 3 + sx) * 3 + c], "(\(x),\(y)) channel \(c)")
        }
      }
    }
  }
}

/// The figure says so: the input panel's caption names the factor and the filter, and the
/// PNG text chunks carry it.
struct TinyImageCaptionTests {
  @Test func captionAndTextChunksNameTheFactor() throws {
    let image = Image(width: 4, height: 4, channels: 3, pixels: (0..<48).map { UInt8($0 * 5) })
    let scene = try ImageAttention(image: image, model: BuiltInModel()).scene()
    let caption = scene.inputPanel().caption.joined(separator: " ")
    #expect(caption.contains("input 4x4, smaller than a patch, enlarged 4x (nearest) to 16x16"), "\(caption)")
    let chunks = Dictionary(scene.textChunks(input: "tiny.png").map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    #expect(chunks["enlarged"] == "4x nearest-neighbour, smaller than one 16-pixel patch")

    let photo = Image(width: 40, height: 40, channels: 3, pixels: [UInt8](repeating: 90, count: 4800))
    let plain = try ImageAttention(image: photo, model: BuiltInModel()).scene()
    #expect(!plain.inputPanel().caption.joined().contains("enlarged"))
    #expect(!plain.textChunks(input: "photo.png").contains { $0.key == "enlarged" })
  }
}
