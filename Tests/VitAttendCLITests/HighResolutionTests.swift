import Foundation
import Testing
import VAImageIO
import VAInspection

/// Above `--full-attention-limit` (L·H·T² values): the rows dump contract, maps from the
/// streaming path against the full one, and the page recomputing rows from 8-bit queries and
/// keys, against `--dump` of the same image and model.
///
/// The timm fixture (2 layers, 3 heads of 32, 16-pixel patches) on the cat at its own size:
/// 448x288 after the crop, a 28x18 grid, T = 505, so L·H·T² = 1,530,150; a limit of 100,000
/// puts it above the threshold while the test stays small.
@Suite(.serialized) struct HighResolutionTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
  let small = ["--full-attention-limit", "100000"]
  // The query: pixel (170, 113) is model pixel (169.5, 107.5) after the (1, 6) crop, patch
  // (10, 6), token 1 + 6·28 + 10.
  let query = ["--query", "170,113"], queryToken = 1 + 6 * 28 + 10
  let tokens = 505

  func run(_ options: [String], dump: String) throws -> DumpFile {
    let result = try CommandRunner.run([cat, "--weights", timm, "--resize", "none"] + query + ["--dump", dump] + options)
    #expect(result.status == 0, "\(result.error)")
    return try DumpFile(path: dump)
  }

  /// Row `token` of head `h` in a full dump's `attn.{l}` `[heads, T, T]`.
  func fullRow(_ dump: DumpFile, layer: Int, head: Int, token: Int) -> ArraySlice<Float> {
    let start = (head * tokens + token) * tokens
    return dump.tensors["attn.\(layer)"]![start..<(start + tokens)]
  }

  func largestDifference<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  @Test func rowsDumpContractAboveTheLimit() throws {
    let scratch = ScratchFolder()
    let rows = try run(small, dump: scratch.file("rows.safetensors"))
    let full = try run([], dump: scratch.file("full.safetensors"))
    #expect(rows.metadata["attention-dump"] == "rows" && full.metadata["attention-dump"] == "full")
    #expect(rows.metadata["attention-values"] == "1530150" && rows.metadata["full-attention-limit"] == "100000")
    #expect(rows.shapes.keys.filter { $0.hasPrefix("attn.") }.isEmpty)
    #expect(rows.dtypes["attn_rows.tokens"] == "I64" && rows.shapes["attn_rows.tokens"] == [2])
    #expect(rows.tensors["attn_rows.tokens"] == [0, Float(queryToken)])
    #expect(full.shapes["attn.1"] == [3, tokens, tokens] && full.shapes["attn_rows.0"] == nil)
    for layer in 0..<2 {
      let values = try #require(rows.tensors["attn_rows.\(layer)"])
      #expect(rows.shapes["attn_rows.\(layer)"] == [3, 2, tokens])
      for head in 0..<3 {
        for (r, token) in [0, queryToken].enumerated() {
          let start = (head * 2 + r) * tokens
          // Tiled forward and row recomputation against the plain path: Float rounding.
          #expect(largestDifference(values[start..<(start + tokens)], fullRow(full, layer: layer, head: head, token: token)) < 1e-5)
        }
      }
    }
    // The logits of the tiled forward match the plain one's.
    #expect(largestDifference(rows.tensors["logits"]!, full.tensors["logits"]!) < 1e-4)
  }

  @Test func dumpAttentionChoosesWhatIsWritten() throws {
    let scratch = ScratchFolder()
    // rows below the limit: taken from the full matrices.
    let rows = try run(["--dump-attention", "rows"], dump: scratch.file("r.safetensors"))
    #expect(rows.metadata["attention-dump"] == "rows" && rows.shapes["attn_rows.1"] == [3, 2, tokens])
    let none = try run(small + ["--dump-attention", "none"], dump: scratch.file("n.safetensors"))
    #expect(none.metadata["attention-dump"] == "none")
    #expect(none.shapes.keys.filter { $0.hasPrefix("attn") }.isEmpty && none.shapes["input"] == [3, 288, 448])
    // full above the limit: asked for, so kept.
    let full = try run(small + ["--dump-attention", "full"], dump: scratch.file("f.safetensors"))
    #expect(full.metadata["attention-dump"] == "full" && full.shapes["attn.0"] == [3, tokens, tokens])
    let refused = try CommandRunner.run([cat, "--weights", timm, "--dump-attention", "rows", "--out", scratch.file("x.png")])
    #expect(refused.status == 64 && refused.error.contains("--dump-attention"))
  }

  @Test func rolloutAndDistanceFromTheStreamingPath() throws {
    let scratch = ScratchFolder()
    let rows = try run(small + ["--map", "rollout"], dump: scratch.file("r.safetensors"))
    let full = try run(["--map", "rollout"], dump: scratch.file("f.safetensors"))
    let row = try #require(rows.tensors["rollout_row"]), matrix = try #require(full.tensors["rollout"])
    #expect(rows.shapes["rollout_row"] == [tokens] && rows.shapes["rollout"] == nil)
    #expect(largestDifference(row, matrix[0..<tokens]) < 1e-5)
    let rowsDistance = try run(small + ["--map", "distance"], dump: scratch.file("rd.safetensors"))
    let fullDistance = try run(["--map", "distance"], dump: scratch.file("fd.safetensors"))
    // Pixels over a 448x288 image; Float partial sums.
    #expect(largestDifference(rowsDistance.tensors["distance"]!, fullDistance.tensors["distance"]!) < 1e-2)
    let refused = try CommandRunner.run([cat, "--weights", timm, "--resize", "none", "--map", "rollout", "--discard-ratio", "0.5", "--out", scratch.file("x.png")] + small)
    #expect(refused.status == 1 && refused.error.contains("--discard-ratio needs every layer's full attention matrix"), "\(refused.error)")
    #expect(!FileManager.default.fileExists(atPath: scratch.file("x.png")))
  }

  /// The page above the limit recomputes each hovered patch's rows from queries and keys
  /// stored at 8 bits. Tolerance: each stored value is within s/254 of its token's and head's
  /// largest magnitude s, so a score q·k/√d moves by up to Σ(|k|·s_q + |q|·s_k)/254/√d, a few
  /// hundredths for this model's scores, and a weight w by about w times that, plus the
  /// shift of the softmax's sum. Measured here: 1% to 7% of the row's maximum (layer 0 head 0
  /// is the worst); every check allows 10%, the figure the page's note states.
  @Test(.needsBrowser) func pageRecomputesRowsFromQueriesAndKeys() throws {
    let scratch = ScratchFolder()
    let page = scratch.file("page.html")
    let made = try CommandRunner.run([cat, "--weights", timm, "--resize", "none", "--html", page] + query + small)
    #expect(made.status == 0, "\(made.error)")
    let full = try run([], dump: scratch.file("full.safetensors"))
    let record = AttentionRecord(
      layers: (0..<2).map { full.tensors["attn.\($0)"]! }, heads: 3, prefixTokens: 1, hasClassToken: true, gridWidth: 28, gridHeight: 18)
    let size = try Data(contentsOf: URL(fileURLWithPath: page)).count
    // Queries and keys (2·T·C bytes a layer, 0.29 MB in base64 here) instead of H·T² weights
    // (2.04 MB in base64): the page is about 2.0 MB, most of it SAGAN rows (1.36 MB) and the
    // image (0.30 MB); with the weights it would be over 4 MB.
    #expect(size < 2_500_000, "page is \(size) bytes")
    let browser = try HeadlessBrowser.find()
    let views: [(String, [Float])] = [
      ("map=query&layer=1&head=2&fuse=none&query=10,6", record.queryMap(column: 10, row: 6, layer: 1, .head(2))),
      ("map=query&layer=0&head=0&fuse=none&query=27,17", record.queryMap(column: 27, row: 17, layer: 0, .head(0))),
      ("map=query&layer=1&fuse=mean&query=3,12", record.queryMap(column: 3, row: 12, layer: 1, .fused(.mean))),
      ("map=query&layer=0&fuse=max&query=20,2", record.queryMap(column: 20, row: 2, layer: 0, .fused(.max))),
      ("map=cls&layer=1&head=1&fuse=none", record.classTokenMap(layer: 1, .head(1))!),
      ("map=rollout&fuse=mean", Array(record.rolloutRow(0, .mean)[1...])),
    ]
    for (fragment, expected) in views {
      let map = try browser.currentMap(page: page, fragment: fragment)
      #expect(map.source == "queries-keys")
      #expect(map.values.count == expected.count, "#\(fragment)")
      let worst = zip(map.values, expected).map { abs($0 - Double($1)) }.max() ?? .infinity
      let peak = Double(expected.max()!)
      #expect(worst <= 0.1 * peak, "#\(fragment): off by \(worst), row maximum \(peak)")
    }
  }

  /// A page whose SAGAN panel is stored per feature cell: 1024x528 pixels give 2112 patches,
  /// more than the 924 cells of the image scaled down by 3 (the smallest factor leaving at
  /// most 2048). The page must still draw every map, and the figures with SAGAN panels use
  /// the same scaled-down image.
  @Test(.needsBrowser) func largePageStoresSAGANPerCellAndStillDraws() throws {
    let scratch = ScratchFolder()
    var pixels = [UInt8](repeating: 0, count: 1024 * 528 * 3)
    for i in pixels.indices { pixels[i] = UInt8((i / 3 % 1024 / 8 + i / 3 / 1024 / 8 * 3 + i % 3 * 50) % 256) }
    let input = scratch.file("wide.png"), page = scratch.file("wide.html")
    try Image(width: 1024, height: 528, channels: 3, pixels: pixels).writePNG(to: input)
    let made = try CommandRunner.run([input, "--weights", timm, "--resize", "none", "--html", page] + small)
    #expect(made.status == 0, "\(made.error)")
    let html = try String(contentsOfFile: page, encoding: .utf8)
    #expect(html.contains("\"byCell\":true") && html.contains("\"cell\":24"))
    let map = try HeadlessBrowser.find().currentMap(page: page, fragment: "map=query&layer=1&head=0&fuse=none&query=40,20")
    #expect(map.source == "queries-keys" && map.values.count == 64 * 33)
    #expect(map.values.allSatisfy { $0.isFinite && $0 >= 0 } && map.values.max()! > map.values.min()!)
    // The figures' SAGAN panels use the same scaled-down image: 42x22 cells of 24 pixels
    // instead of 128x66 of 8 (an [8448, 8448] matrix).
    let figure = try CommandRunner.run([input, "--weights", timm, "--resize", "none", "--map", "sagan", "--dump", scratch.file("s.safetensors"), "--out", scratch.file("s.png")] + small)
    #expect(figure.status == 0, "\(figure.error)")
    #expect(try DumpFile(path: scratch.file("s.safetensors")).shapes["sagan.attn"] == [4, 42 * 22])
    let plain = try CommandRunner.run([input, "--weights", timm, "--resize", "none", "--out", scratch.file("d.png")] + small)
    #expect(plain.status == 0, "\(plain.error)")
  }
}
