import Foundation
import Testing
import VAImageIO

/// Every valid image gives a figure (issue 25): PngSuite through the built binary, and
/// images smaller than one patch enlarged pixel for pixel, for the built-in model and for a
/// checkpoint under `--resize none`.
@Suite struct TinyImageTests {
  let suite = CommandRunner.repositoryFile("Tests/VAImageIOTests/Fixtures/pngsuite")
  let classifier = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_classifier")

  func records(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
  }

  /// PngSuite's 175 files as one folder run: the 161 valid ones (every colour type and bit
  /// depth, interlaced, 1×1 to 32×32, odd sizes, ancillary chunks) give a figure, and the 14
  /// corrupt ones (`x*.png`) fail with a reason. s01…s07 (1 to 7 pixels a side) are
  /// enlarged to one 16-pixel patch and say so in their PNG text. Bare overlays: a debug
  /// build draws 161 captioned figures four times slower, and the captions of enlarged
  /// images are checked in process (TinyImageCaptionTests) and below for four files.
  @Test func everyValidPngSuiteFileGivesAFigure() throws {
    let scratch = ScratchFolder()
    let out = scratch.file("out")
    let result = try CommandRunner.run([suite, "--out-dir", out, "-m", "query", "--style", "bare", "--keep-going"], timeout: 900)
    #expect(result.status == 2, "corrupt files fail the run: \(result.error)")
    let files = try FileManager.default.contentsOfDirectory(atPath: suite).filter { $0.hasSuffix(".png") }.sorted()
    #expect(files.count == 175)
    let index = try records("\(out)/index.jsonl")
    #expect(index.map { $0["input"] as? String } == files)
    for record in index {
      let name = record["input"] as! String
      if name.hasPrefix("x") {
        #expect(record["status"] as? String == "error", "\(name) is corrupt")
        // The file and what is wrong: a corrupt chunk, header or CRC, or a broken signature.
        let error = (record["error"] as? String) ?? ""
        #expect(error.contains(name) && (error.contains("PNG is corrupt: ") || error.contains("not a PNG or JPEG image")), "\(name): \(error)")
      } else {
        #expect(record["status"] as? String == "ok", "\(name): \(record["error"] ?? "")")
        let figure = "\(out)/\((name as NSString).deletingPathExtension).png"
        #expect(record["output"] as? String == (figure as NSString).lastPathComponent)
        let text = try pngText(figure)
        #expect(text["input"]?.hasSuffix(name) == true)
        if name.hasPrefix("s0"), let side = Int(name.dropFirst(1).prefix(2)), side < 8 {
          #expect(text["enlarged"]?.hasPrefix("\((16 + side - 1) / side)x nearest") == true, "\(name): \(text["enlarged"] ?? "not enlarged")")
        } else {
          #expect(text["enlarged"] == nil, "\(name) holds a patch after the built-in model's 2×")
        }
      }
    }
    #expect(index.filter { $0["status"] as? String == "ok" }.count == 161)
    #expect(result.error.contains("175 images: 161 done, 14 failed"), "\(result.error)")
  }

  /// The model input (`--dump`'s `input`, RGB / 255 for the built-in model) is the decoded
  /// pixels repeated by the factor and centre-cropped: s03n3p01 (3×3 palette) 6× to 18×18,
  /// cropped to 16×16 from (1, 1); s05n3p02 4×, s07n3p02 3×, s01i3p01
  /// (1×1, interlaced) 16×.
  @Test(arguments: [("s03n3p01", 6), ("s05n3p02", 4), ("s07n3p02", 3), ("s01i3p01", 16)])
  func theInputIsTheDecodedPixelsRepeated(name: String, factor: Int) throws {
    let scratch = ScratchFolder()
    let path = "\(suite)/\(name).png"
    let decoded = try Image(contentsOfFile: path).rgb()
    let result = try CommandRunner.run([path, "--out", scratch.file("f.png"), "--dump", scratch.file("d.safetensors")])
    #expect(result.status == 0, "\(result.error)")
    let dump = try DumpFile(path: scratch.file("d.safetensors"))
    #expect(dump.metadata["enlarged"]?.hasPrefix("\(factor)x nearest") == true, "\(dump.metadata["enlarged"] ?? "none")")
    let crop = (decoded.width * factor - 16) / 2
    #expect(dump.metadata["crop_x"] == String(crop) && dump.metadata["scale"] == String(Double(factor)))
    let input = try #require(dump.tensors["input"])
    #expect(dump.shapes["input"] == [3, 16, 16])
    var worst: Float = 0
    for c in 0..<3 {
      for y in 0..<16 {
        for x in 0..<16 {
          let (sx, sy) = ((x + crop) / factor, (y + crop) / factor)
          let expected = Float(decoded.pixels[(sy * decoded.width + sx) * 3 + c]) / 255
          worst = max(worst, abs(input[c * 256 + y * 16 + x] - expected))
        }
      }
    }
    #expect(worst < 1e-6, "\(name): input differs from the nearest-neighbour enlargement by \(worst)")
    #expect(try pngText(scratch.file("f.png"))["enlarged"]?.hasPrefix("\(factor)x nearest") == true)
  }

  /// A 1×1 PNG with a checkpoint (8-pixel patches) and `--resize none`: enlarged 8×, every
  /// input value the one pixel normalised by the checkpoint's mean and std; under `fit`
  /// the checkpoint's own bicubic enlargement to its size applies and nothing is marked.
  @Test func aOnePixelImageGivesACheckpointFigure() throws {
    let scratch = ScratchFolder()
    let dot = scratch.file("dot.png")
    let colour: [UInt8] = [200, 30, 90]
    try Image(width: 1, height: 1, channels: 3, pixels: colour).writePNG(to: dot)
    let none = try CommandRunner.run([dot, "-w", classifier, "--resize", "none", "--out", scratch.file("none.png"), "--dump", scratch.file("none.safetensors")])
    #expect(none.status == 0, "\(none.error)")
    let dump = try DumpFile(path: scratch.file("none.safetensors"))
    #expect(dump.shapes["input"] == [3, 8, 8] && dump.metadata["enlarged"]?.hasPrefix("8x nearest") == true)
    let mean = try #require(dump.metadata["mean"]).split(separator: ",").map { Float($0)! }
    let std = try #require(dump.metadata["std"]).split(separator: ",").map { Float($0)! }
    let input = try #require(dump.tensors["input"])
    for c in 0..<3 {
      let expected = (Float(colour[c]) / 255 - mean[c]) / std[c]
      #expect(input[(c * 64)..<((c + 1) * 64)].allSatisfy { abs($0 - expected) < 1e-5 }, "channel \(c)")
    }
    #expect(try pngText(scratch.file("none.png"))["enlarged"]?.hasPrefix("8x") == true)

    let fit = try CommandRunner.run([dot, "-w", classifier, "--out", scratch.file("fit.png")])
    #expect(fit.status == 0, "\(fit.error)")
    #expect(try pngText(scratch.file("fit.png"))["enlarged"] == nil)
  }
}
