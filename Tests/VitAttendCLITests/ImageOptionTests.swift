import Foundation
import Testing
import VAImageIO
import VARendering

/// `--colormap`, `--upsample`, `--no-exif`, `--accept-partial` and folder walks through
/// symbolic links, each checked by value through the built binary (README, "Maps" and
/// "Data sets").
@Suite struct ImageOptionTests {
  let jpegs = CommandRunner.repositoryFile("Tests/VAImageIOTests/Fixtures/generated/jpeg")

  /// A 64×48 photo: the built-in model enlarges it 2× to 128×96, an 8×6 patch grid.
  func photo(in scratch: ScratchFolder) throws -> String {
    let path = scratch.file("cat.png")
    let cat = try Image(contentsOfFile: CommandRunner.repositoryFile("images/cat.png")).rgb()
    try cat.resized(width: 64, height: 48, filter: .bicubic).writePNG(to: path)
    return path
  }

  /// The query map the figure shows, from the dump: head 0's row of the query patch
  /// (the built-in model has no prefix tokens), min-max normalised as figures are.
  func normalisedQueryMap(_ dump: DumpFile) throws -> (values: [Float], width: Int, height: Int) {
    let (gw, gh) = (Int(dump.metadata["grid_width"]!)!, Int(dump.metadata["grid_height"]!)!)
    let patch = try #require(dump.metadata["query-patch"]).split(separator: ",").map { Int($0)! }
    let t = gw * gh, attention = try #require(dump.tensors["attn.0"])
    let row = Array(attention[((patch[1] * gw + patch[0]) * t)..<((patch[1] * gw + patch[0] + 1) * t)])
    let (low, high) = (row.min()!, row.max()!)
    return (row.map { ($0 - low) / (high - low) }, gw, gh)
  }

  /// The bare overlay at `--alpha 1` is the colour map alone: every pixel must be the named
  /// map's colour of the upsampled value there (or of a neighbouring table entry, where
  /// float rounding lands on an entry's edge). Returns how many pixels are not.
  func mismatches(figure: Image, expected: [Float], colormap: Colormap) -> Int {
    var wrong = 0
    for (p, value) in expected.enumerated() {
      let got = (figure.pixels[p * 3], figure.pixels[p * 3 + 1], figure.pixels[p * 3 + 2])
      let near = [value - 1 / 256, value, value + 1 / 256].map { colormap.color($0) }
      if !near.contains(where: { $0 == got }) { wrong += 1 }
    }
    return wrong
  }

  /// Bilinear between patch centres (align_corners = false, edges clamped), written out
  /// here independently of HeatMap.
  func bilinear(_ map: [Float], gw: Int, gh: Int, width: Int, height: Int) -> [Float] {
    func at(_ x: Int, _ y: Int) -> Float { map[min(max(y, 0), gh - 1) * gw + min(max(x, 0), gw - 1)] }
    var out: [Float] = []
    for py in 0..<height {
      let fy = (Double(py) + 0.5) * Double(gh) / Double(height) - 0.5
      for px in 0..<width {
        let fx = (Double(px) + 0.5) * Double(gw) / Double(width) - 0.5
        let (x0, y0) = (Int(fx.rounded(.down)), Int(fy.rounded(.down)))
        let (wx, wy) = (Float(fx - Double(x0)), Float(fy - Double(y0)))
        let top = at(x0, y0) * (1 - wx) + at(x0 + 1, y0) * wx
        let bottom = at(x0, y0 + 1) * (1 - wx) + at(x0 + 1, y0 + 1) * wx
        out.append(top * (1 - wy) + bottom * wy)
      }
    }
    return out
  }

  /// Cubic convolution between patch centres, a = −0.75 as torch's bicubic (edges clamped),
  /// clipped to the normalised map's range [0, 1]; written out here independently.
  func bicubic(_ map: [Float], gw: Int, gh: Int, width: Int, height: Int) -> [Float] {
    func at(_ x: Int, _ y: Int) -> Float { map[min(max(y, 0), gh - 1) * gw + min(max(x, 0), gw - 1)] }
    func weights(_ t: Float) -> [Float] {
      let a: Float = -0.75
      func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
      func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
      return [far(t + 1), near(t), near(1 - t), far(2 - t)]
    }
    var out: [Float] = []
    for py in 0..<height {
      let fy = (Double(py) + 0.5) * Double(gh) / Double(height) - 0.5
      for px in 0..<width {
        let fx = (Double(px) + 0.5) * Double(gw) / Double(width) - 0.5
        let (x0, y0) = (Int(fx.rounded(.down)), Int(fy.rounded(.down)))
        let (wx, wy) = (weights(Float(fx - Double(x0))), weights(Float(fy - Double(y0))))
        var sum: Float = 0
        for j in 0..<4 { for i in 0..<4 { sum += wy[j] * wx[i] * at(x0 - 1 + i, y0 - 1 + j) } }
        out.append(min(max(sum, 0), 1))
      }
    }
    return out
  }

  /// `--colormap NAME --upsample nearest|bilinear|bicubic`: the overlay's pixels are the named map's
  /// colours of the patch values, flat over each 16-pixel patch for nearest, linear or
  /// cubic between patch centres for bilinear and bicubic; another map's colours or
  /// another method fail.
  @Test(arguments: [(Colormap.magma, Upsampling.nearest), (.plasma, .bilinear), (.viridis, .bicubic), (.turbo, .bilinear), (.jet, .bicubic)])
  func colormapAndUpsamplingChangeThePixelsAsNamed(colormap: Colormap, upsample: Upsampling) throws {
    let scratch = ScratchFolder()
    let image = try photo(in: scratch)
    let (figurePath, dumpPath) = (scratch.file("f.png"), scratch.file("d.safetensors"))
    let result = try CommandRunner.run([
      image, "-m", "query", "--head", "0", "--style", "bare", "--alpha", "1", "--colormap", colormap.rawValue,
      "--upsample", upsample.rawValue, "--out", figurePath, "--dump", dumpPath,
    ])
    #expect(result.status == 0, "\(result.error)")
    let figure = try Image(contentsOfFile: figurePath).rgb()
    let dump = try DumpFile(path: dumpPath)
    #expect(try pngText(figurePath)["colormap"] == colormap.rawValue)
    let (map, gw, gh) = try normalisedQueryMap(dump)
    #expect((figure.width, figure.height) == (gw * 16, gh * 16) && (gw, gh) == (8, 6))
    let nearest = (0..<(figure.width * figure.height)).map { p in map[(p / figure.width / 16) * gw + (p % figure.width) / 16] }
    let linear = bilinear(map, gw: gw, gh: gh, width: figure.width, height: figure.height)
    let cubic = bicubic(map, gw: gw, gh: gh, width: figure.width, height: figure.height)
    let methods: [Upsampling: [Float]] = [.nearest: nearest, .bilinear: linear, .bicubic: cubic]
    let expected = methods[upsample]!
    #expect(mismatches(figure: figure, expected: expected, colormap: colormap) == 0)
    // The test can tell: another method, or another map, misses many pixels.
    for (method, values) in methods where method != upsample {
      #expect(mismatches(figure: figure, expected: values, colormap: colormap) > figure.width * figure.height / 10, "\(method)")
    }
    let another: Colormap = colormap == .viridis ? .inferno : .viridis
    #expect(mismatches(figure: figure, expected: expected, colormap: another) > figure.width * figure.height / 2)
  }

  /// `--no-exif` keeps a JPEG as stored; by default its EXIF orientation turns it upright.
  /// orientation6.jpg is stored 72×40 and shown turned 90° clockwise (40×72). With
  /// `--resize none` the model input is the pixels themselves, cropped to 16-pixel multiples
  /// from (4, 4), so both dumps' inputs are checked pixel for pixel against the stored file.
  @Test func noExifKeepsTheStoredOrientation() throws {
    let scratch = ScratchFolder()
    let path = "\(jpegs)/orientation6.jpg"
    let stored = try Image(contentsOfFile: path, options: DecodeOptions(applyExifOrientation: false)).rgb()
    #expect((stored.width, stored.height) == (72, 40))
    func input(_ extra: [String], _ name: String) throws -> DumpFile {
      let result = try CommandRunner.run([path, "--resize", "none", "-m", "query", "--out", scratch.file(name + ".png"), "--dump", scratch.file(name + ".safetensors")] + extra)
      #expect(result.status == 0, "\(result.error)")
      return try DumpFile(path: scratch.file(name + ".safetensors"))
    }
    let upright = try input([], "upright"), asStored = try input(["--no-exif"], "stored")
    #expect(upright.shapes["input"] == [3, 64, 32] && asStored.shapes["input"] == [3, 32, 64])
    #expect(upright.metadata["original_width"] == "40" && asStored.metadata["original_width"] == "72")
    func sample(_ x: Int, _ y: Int, _ c: Int) -> Float { Float(stored.pixels[(y * 72 + x) * 3 + c]) / 255 }
    var worstStored: Float = 0, worstUpright: Float = 0
    let a = try #require(asStored.tensors["input"]), b = try #require(upright.tensors["input"])
    for c in 0..<3 {
      for y in 0..<32 { for x in 0..<64 { worstStored = max(worstStored, abs(a[c * 2048 + y * 64 + x] - sample(x + 4, y + 4, c))) } }
      // Turned clockwise: upright pixel (u, v) is stored pixel (v, 39 − u).
      for v in 0..<64 { for u in 0..<32 { worstUpright = max(worstUpright, abs(b[c * 2048 + v * 32 + u] - sample(v + 4, 39 - (u + 4), c))) } }
    }
    #expect(worstStored < 1e-6 && worstUpright < 1e-6, "stored \(worstStored), upright \(worstUpright)")
  }

  /// A JPEG cut at 60%: refused by default, drawn with `--accept-partial` from what libjpeg
  /// decoded, the rest filled flat. The file (72×40, 4:2:0) is cut inside its first 16-row
  /// band of blocks: those rows are the complete file's but for the last blocks, and from
  /// row 17 on every pixel is one flat colour. The model input (`--resize none`: the pixels,
  /// cropped from (4, 4)) is checked against both and against the partial decode itself.
  @Test func acceptPartialDrawsWhatLibjpegDecoded() throws {
    let scratch = ScratchFolder()
    let path = "\(jpegs)/truncated60_q420.jpg"
    let refused = try CommandRunner.run([path, "--resize", "none", "--out", scratch.file("no.png")])
    #expect(refused.status != 0 && refused.error.contains("truncated60_q420.jpg"), "\(refused.error)")
    #expect(!FileManager.default.fileExists(atPath: scratch.file("no.png")))
    let result = try CommandRunner.run([path, "--accept-partial", "--resize", "none", "-m", "query", "--out", scratch.file("f.png"), "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let input = try #require(try DumpFile(path: scratch.file("d.safetensors")).tensors["input"])
    let partial = try Image(contentsOfFile: path, options: DecodeOptions(acceptPartial: true)).rgb()
    let complete = try Image(contentsOfFile: "\(jpegs)/q420.jpg").rgb()
    // Model input row y is file row y + 4, 64 columns from column 4; channel-major triples.
    func row(_ y: Int, of image: Image) -> [Float] {
      (0..<3).flatMap { c in (0..<64).map { x in Float(image.pixels[((y + 4) * 72 + x + 4) * 3 + c]) / 255 } }
    }
    func inputRow(_ y: Int) -> [Float] { (0..<3).flatMap { c in (0..<64).map { x in input[c * 2048 + y * 64 + x] } } }
    func agreement(_ a: [Float], _ b: [Float]) -> Double { Double(zip(a, b).filter { abs($0 - $1) < 1e-6 }.count) / Double(a.count) }
    #expect((0..<32).allSatisfy { agreement(inputRow($0), row($0, of: partial)) == 1 }, "the input is the partial decode")
    for y in 0..<10 {
      #expect(agreement(inputRow(y), row(y, of: complete)) > 0.75, "input row \(y) is mostly the complete file's")
    }
    let flat = inputRow(13)
    for y in 13..<32 {
      let values = inputRow(y)
      #expect(values == flat && Set(values[0..<64]).count == 1 && Set(values[64..<128]).count == 1, "input row \(y) is filled flat")
      #expect(agreement(values, row(y, of: complete)) < 0.5, "input row \(y) is not the complete file's")
    }
  }

  /// Symbolic links to folders are followed once: a link back to the root (a loop) ends,
  /// and a folder reached by two paths (`a` and the link `b` → `a`) is walked under the
  /// first in sorted order, so each image is drawn once, under a stable name. A link to a
  /// folder outside the tree is followed.
  @Test func symbolicLinksToFoldersAreFollowedOnce() throws {
    let scratch = ScratchFolder()
    let root = scratch.file("root"), outside = scratch.file("outside")
    let fm = FileManager.default
    for folder in ["\(root)/a/deep", outside] { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    let square = Image(width: 16, height: 16, channels: 3, pixels: (0..<768).map { UInt8($0 % 251) })
    for file in ["\(root)/a/x.png", "\(root)/a/deep/y.png", "\(outside)/z.png"] { try square.writePNG(to: file) }
    try fm.createSymbolicLink(atPath: "\(root)/a/deep/loop", withDestinationPath: "../..")
    try fm.createSymbolicLink(atPath: "\(root)/b", withDestinationPath: "a")
    try fm.createSymbolicLink(atPath: "\(root)/0-deep", withDestinationPath: "a/deep")
    try fm.createSymbolicLink(atPath: "\(root)/out-link", withDestinationPath: outside)
    let out = scratch.file("out")
    let result = try CommandRunner.run([root, "--out-dir", out, "-m", "query"], timeout: 120)
    #expect(result.status == 0, "\(result.error)")
    let index = try String(contentsOfFile: "\(out)/index.jsonl", encoding: .utf8).split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    // "0-deep" sorts before "a", so a/deep is walked as 0-deep; "b" repeats "a" and is skipped.
    #expect(index.map { $0["input"] as? String } == ["0-deep/y.png", "a/x.png", "out-link/z.png"])
    #expect(index.allSatisfy { $0["status"] as? String == "ok" })
  }
}
