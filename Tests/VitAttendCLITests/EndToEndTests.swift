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

  @Test(arguments: ["query", "rollout", "heads", "mask", "distance", "posembed", "rf", "sagan"])
  func everyMapRenders(map: String) throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([cat, "--map", map, "--query", "170,113", "--out", scratch.file("f.png")])
    #expect(result.status == 0, "\(result.error)")
    let figure = try Image(contentsOfFile: scratch.file("f.png"))
    #expect(figure.width > 100 && figure.height > 100)
    #expect(try pngText(scratch.file("f.png"))["map"] == map)
  }

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
    #expect(expected.count == 10 && expected.contains("rocket.png") && expected.contains("shapeworld-star.png"))
    #expect(written == (expected + ["index.jsonl"]).sorted())
  }
}

/// The README's figure, re-rendered and compared pixel by pixel with the committed one.
@Suite struct RenderingGoldenTests {
  @Test func defaultFigureMatchesTheREADMEFigure() throws {
    let scratch = ScratchFolder()
    let result = try CommandRunner.run([CommandRunner.repositoryFile("images/cat.png"), "--query", "170,113", "--out", scratch.file("f.png")])
    #expect(result.status == 0, "\(result.error)")
    let fresh = try Image(contentsOfFile: scratch.file("f.png"))
    let golden = try Image(contentsOfFile: CommandRunner.repositoryFile("docs/figures/cat-default.png"))
    #expect((fresh.width, fresh.height) == (golden.width, golden.height))
    // Debug and release builds may round a few float sums differently: allow a small
    // difference on a few pixels, never a different picture.
    let differences = zip(fresh.pixels, golden.pixels).map { abs(Int($0) - Int($1)) }
    let off = differences.filter { $0 > 2 }.count
    #expect(Double(off) / Double(differences.count) < 0.001, "\(off) of \(differences.count) samples differ by more than 2")
  }
}
