import Foundation
import VAImageIO
import Testing

/// The built binary, run as a user runs it.
@Suite(.serialized) struct EndToEndTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")

  @Test func defaultFigureOnTheCat() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "--out", scratch.file("cat.png")])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.error.isEmpty && result.output.isEmpty)
    let figure = try Image(contentsOfFile: scratch.file("cat.png"))
    #expect(figure.width > 3 * 480 && figure.height > 304)
    let text = try pngText(scratch.file("cat.png"))
    #expect(text["model"]?.contains("descriptor attention") == true)
    #expect(text["map"] == "default" && text["query"] == "225,150" && text["head"] == "0")
    #expect(scratch.contents == ["cat.png"], "temporary files left: \(scratch.contents)")
  }

  /// The check: on cat.png, a query on one eye reaches the other eye.
  @Test func aQueryOnOneEyeReachesTheOther() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "--query", "170,113", "--dump", scratch.file("cat.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("cat.safetensors"))
    let attention = try #require(dump.tensors["attn.0"])
    #expect(dump.shapes["attn.0"] == [4, 570, 570])
    #expect(dump.shapes["input"] == [3, 304, 480])
    // cat.png is 451x300, fitted to 480x319 and cropped to 480x304 (7 rows off the top).
    let scale = 480.0 / 451.0, cropY = 7.0
    func patch(_ x: Double, _ y: Double) -> (Int, Int) { (Int(x * scale / 16), Int((y * scale - cropY) / 16)) }
    let (qc, qr) = patch(170, 113)
    let row = Array(attention[((qc + qr * 30) * 570)..<((qc + qr * 30 + 1) * 570)])  // head 0: appearance
    // Patches within 30 source pixels of the other eye's centre (318, 135).
    var share: Float = 0
    var count = 0
    for r in 0..<19 {
      for c in 0..<30 {
        let cx = (Double(c) + 0.5) * 16 / scale, cy = ((Double(r) + 0.5) * 16 + cropY) / scale
        if (cx - 318) * (cx - 318) + (cy - 135) * (cy - 135) <= 30 * 30 {
          share += row[r * 30 + c]
          count += 1
        }
      }
    }
    let areaShare = Float(count) / 570
    #expect(share > 10 * areaShare, "other eye gets \(share) of the attention, \(share / areaShare)x its area share")
  }

  // Every map's values: BuiltInMapValueTests (query, rollout, heads, mask, distance,
  // posembed), ReceptiveFieldMapValueTests (rf) and dumpHoldsWhatEachMapPromises (sagan).

  @Test func dumpHoldsWhatEachMapPromises() throws {
    let scratch = ScratchFolder()
    for map in ["rollout", "distance", "rf", "sagan"] {
      let result = try CommandRunner.run([cat, "--map", map, "--dump", scratch.file("\(map).safetensors")])
      #expect(result.status == 0, "\(result.error)")
    }
    let rollout = try DumpFile(path: scratch.file("rollout.safetensors"))
    #expect(rollout.shapes["rollout"] == [570, 570])
    let attention = try #require(rollout.tensors["attn.0"])
    for row in stride(from: 0, to: 4 * 570, by: 97) {
      let sum = attention[(row * 570)..<((row + 1) * 570)].reduce(0, +)
      #expect(abs(sum - 1) < 1e-4, "attention row \(row) sums to \(sum)")
    }
    let r = try #require(rollout.tensors["rollout"])
    #expect(abs(r[0..<570].reduce(0, +) - 1) < 1e-4)
    #expect(try DumpFile(path: scratch.file("distance.safetensors")).shapes["distance"] == [1, 4])
    let rf = try DumpFile(path: scratch.file("rf.safetensors"))
    #expect(rf.shapes["rf.size"] == [18] && rf.shapes["erf"] == [304, 480])
    #expect(rf.tensors["rf.size"]?.last == 212 && rf.tensors["rf.stride"]?.last == 32 && rf.tensors["rf.padding"]?.last == 90)
    // Four query points over the 60x38 map of 8-pixel cells of the 480x304 input.
    let sagan = try DumpFile(path: scratch.file("sagan.safetensors"))
    #expect(sagan.shapes["sagan.attn"] == [4, 2280])
    let rows = try #require(sagan.tensors["sagan.attn"])
    for q in 0..<4 { #expect(abs(rows[(q * 2280)..<((q + 1) * 2280)].reduce(0, +) - 1) < 1e-3) }
  }

  @Test func folderRunWritesOneFigurePerImage() throws {
    let scratch = ScratchFolder()
    let images = CommandRunner.repositoryFile("images")
    let result = try CommandRunner.run([images, "--out-dir", scratch.file("figures"), "--resize", "none", "--map", "query"])
    #expect(result.status == 0, "\(result.error)")
    let written = try FileManager.default.contentsOfDirectory(atPath: scratch.file("figures")).sorted()
    // One PNG per image in the folder, named after its stem (SOURCES.md is not an image),
    // and the run's index.
    let expected = try FileManager.default.contentsOfDirectory(atPath: images)
      .filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }
      .map { ($0 as NSString).deletingPathExtension + ".png" }.sorted()
    #expect(expected.count == 11 && expected.contains("rocket.png") && expected.contains("shapes-scene.png"))
    #expect(written == (expected + ["index.jsonl"]).sorted())
  }
}

/// The default figure checked by what it shows, not by its pixels: a golden image is the
/// code's own output and ties the test to the font and the layout. Nothing here depends on
/// glyph shapes, margins or caption wording: panels are found by searching the figure for
/// the model input (from `--dump` of the same run) and by runs of non-background columns.
@Suite struct DefaultFigureSemanticsTests {
  /// Where `inner` (`w × h`, RGB) sits inside `outer`, by exhaustive search with an early
  /// reject on a few pixels; nil if nowhere within `tolerance` per sample on average.
  static func locate(_ inner: [UInt8], width w: Int, height h: Int, in outer: Image, tolerance: Double = 4) -> (x: Int, y: Int)? {
    let probes = [(5, 5), (w - 7, h - 9), (w / 3, h / 2), (2 * w / 3, h / 4)]
    func sample(_ image: [UInt8], _ width: Int, _ x: Int, _ y: Int, _ c: Int) -> Int { Int(image[(y * width + x) * 3 + c]) }
    var best: (x: Int, y: Int, cost: Double)?
    for y in 0...(outer.height - h) {
      for x in 0...(outer.width - w) {
        let close = probes.allSatisfy { px, py in
          (0..<3).allSatisfy { c in abs(sample(outer.pixels, outer.width, x + px, y + py, c) - sample(inner, w, px, py, c)) <= 12 }
        }
        guard close else { continue }
        var cost = 0.0, n = 0.0
        for sy in stride(from: 0, to: h, by: 7) {
          for sx in stride(from: 0, to: w, by: 7) {
            for c in 0..<3 { cost += Double(abs(sample(outer.pixels, outer.width, x + sx, y + sy, c) - sample(inner, w, sx, sy, c))); n += 1 }
          }
        }
        if best == nil || cost / n < best!.cost { best = (x, y, cost / n) }
      }
    }
    guard let best, best.cost <= tolerance else { return nil }
    return (best.x, best.y)
  }

  @Test func defaultFigureShowsWhatItPromises() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([CommandRunner.repositoryFile("images/cat.png"), "--query", "170,113", "--out", scratch.file("f.png"), "--dump", scratch.file("f.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let figure = try Image(contentsOfFile: scratch.file("f.png")).rgb()
    let dump = try DumpFile(path: scratch.file("f.safetensors"))
    #expect(dump.shapes["input"] == [3, 304, 480])
    let planar = try #require(dump.tensors["input"])
    let (w, h) = (480, 304)
    var input = [UInt8](repeating: 0, count: w * h * 3)
    for i in 0..<(w * h) { for c in 0..<3 { input[i * 3 + c] = UInt8((planar[c * w * h + i] * 255).rounded()) } }

    // 1. The input panel is the model input, unscaled.
    let origin = try #require(Self.locate(input, width: w, height: h, in: figure), "the model input is not in the figure")
    let background = Array(figure.pixels[0..<3])
    func isInk(_ x: Int, _ y: Int) -> Bool {
      let p = (y * figure.width + x) * 3
      return (0..<3).contains { abs(Int(figure.pixels[p + $0]) - Int(background[$0])) > 40 }
    }

    // 2. Four panels of the input's size side by side: runs of columns that are ink over the
    // whole band of the input panel's rows (colour bars are narrower than 100 columns).
    var runs: [(start: Int, width: Int)] = []
    var start: Int?
    for x in 0...figure.width {
      let full = x < figure.width && (0..<h).filter { isInk(x, origin.y + $0) }.count > h * 9 / 10
      if full, start == nil { start = x }
      if !full, let s = start { runs.append((s, x - s)); start = nil }
    }
    let panels = runs.filter { $0.width >= 100 }
    #expect(panels.map(\.width) == [w, w, w, w], "panels \(panels)")
    #expect(panels.first?.start == origin.x)

    // 3. The query marker: the pixels where the input panel differs from the input cluster
    // at the query, 170,113 in the file = (181.5, 113.8) in the 480x304 model input.
    var (sx, sy, n) = (0.0, 0.0, 0.0)
    for y in 0..<h {
      for x in 0..<w {
        let p = ((origin.y + y) * figure.width + origin.x + x) * 3, q = (y * w + x) * 3
        if (0..<3).map({ abs(Int(figure.pixels[p + $0]) - Int(input[q + $0])) }).reduce(0, +) > 60 { sx += Double(x); sy += Double(y); n += 1 }
      }
    }
    #expect(n > 20 && n < 2000, "\(n) marker pixels")
    #expect(abs(sx / n - 181.5) < 3 && abs(sy / n - 113.8) < 3, "marker centred at (\(sx / n), \(sy / n))")

    // 4. The attention panel's peak away from the query is under the other eye. The overlay
    // is α·colour + (1 − α)·input (α = 0.6), so the colour comes back from the two images;
    // inferno's brightness rises with the value. Brightness is averaged per 16-pixel patch.
    let heat = try #require(panels.dropFirst().first)
    var best = (x: 0, y: 0, value: -Double.infinity)
    for row in 0..<(h / 16) {
      for column in 0..<(w / 16) {
        let (cx, cy) = (Double(column * 16 + 8), Double(row * 16 + 8))
        guard (cx - 181.5) * (cx - 181.5) + (cy - 113.8) * (cy - 113.8) > 48 * 48 else { continue }
        var brightness = 0.0
        for y in (row * 16)..<(row * 16 + 16) {
          for x in (column * 16)..<(column * 16 + 16) {
            let p = ((origin.y + y) * figure.width + heat.start + x) * 3, q = (y * w + x) * 3
            for c in 0..<3 { brightness += (Double(figure.pixels[p + c]) - 0.4 * Double(input[q + c])) / 0.6 }
          }
        }
        if brightness > best.value { best = (column * 16 + 8, row * 16 + 8, brightness) }
      }
    }
    // The other eye: (318, 135) in the file, (338.4, 136.7) in the model input.
    #expect(abs(Double(best.x) - 338.4) <= 24 && abs(Double(best.y) - 136.7) <= 24, "peak away from the query at (\(best.x), \(best.y))")

    // 5. Text: a title above the panels and a caption under each.
    #expect((0..<origin.y).contains { y in (0..<figure.width).contains { isInk($0, y) } }, "no title")
    for panel in panels {
      let ink = ((origin.y + h)..<figure.height).reduce(0) { count, y in count + (panel.start..<(panel.start + panel.width)).filter { isInk($0, y) }.count }
      #expect(ink > 50, "no caption under the panel at x = \(panel.start)")
    }
  }
}
