import Foundation
import VAInspection
import Testing

/// `vit-attend --html`: pages opened in headless Chromium, their `#current-map` compared
/// with the maps Swift computes from `--dump` of the same run.
///
/// Tolerance: the page stores each attention row as bytes scaled by the row's maximum `m`
/// (QuantisedRows.swift), so each value is within `m / 510`; a fusion of heads is within the
/// largest of its heads' half-steps. Every check allows one full step, `max m / 255`.
@Suite(.serialized, .needsBrowser) struct InspectorPageTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
  let registers = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_registers_nonsquare")

  /// A page and the attention of the same run, read back from `--dump`.
  struct Page {
    var path: String
    var record: AttentionRecord
  }

  /// Writes `--html` and `--dump` in one run of the binary.
  func makePage(_ options: [String], in scratch: ScratchFolder, patchSize: Int, prefixTokens: Int, classToken: Bool) throws -> Page {
    let page = scratch.file("page.html"), dump = scratch.file("dump.safetensors")
    let result = try CommandRunner.run([cat, "--html", page, "--dump", dump] + options)
    #expect(result.status == 0, "\(result.error)")
    let file = try DumpFile(path: dump)
    let input = try #require(file.shapes["input"])
    let layers = (0..<file.shapes.keys.filter { $0.hasPrefix("attn.") }.count).map { file.tensors["attn.\($0)"]! }
    let heads = try #require(file.shapes["attn.0"]?.first)
    let record = AttentionRecord(
      layers: layers, heads: heads, prefixTokens: prefixTokens, hasClassToken: classToken,
      gridWidth: input[2] / patchSize, gridHeight: input[1] / patchSize)
    return Page(path: page, record: record)
  }

  /// One quantisation step of the rows behind a map: the largest row maximum over the
  /// heads involved, over 255.
  func step(_ record: AttentionRecord, layer: Int, token: Int, _ selection: HeadSelection) -> Double {
    let heads: [Int]
    if case .head(let h) = selection { heads = [h] } else { heads = Array(0..<record.heads) }
    let t = record.tokens
    return heads.map { h in
      let row = record.head(h, layer: layer)[(token * t)..<((token + 1) * t)]
      return Double(row.max()!) / 255
    }.max()!
  }

  func expectMap(
    _ page: Page, _ fragment: String, equals expected: [Float], step: Double,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let map = try HeadlessBrowser.find().currentMap(page: page.path, fragment: fragment)
    #expect(map.values.count == expected.count, "#\(fragment): \(map.values.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    let worst = zip(map.values, expected).map { abs($0 - Double($1)) }.max() ?? .infinity
    #expect(worst <= step + 1e-7, "#\(fragment): off by \(worst), step \(step)", sourceLocation: sourceLocation)
  }

  /// Query, class-token and rollout maps, one head and each fusion, on a timm checkpoint.
  @Test func mapsMatchSwiftOnATimmCheckpoint() throws {
    let scratch = ScratchFolder()
    // 64-pixel model: the cat becomes 64x32 pixels, a 4x2 grid after the class token.
    let page = try makePage(["--weights", timm], in: scratch, patchSize: 16, prefixTokens: 1, classToken: true)
    let r = page.record
    #expect(r.gridWidth == 4 && r.gridHeight == 2 && r.layers.count == 2 && r.heads == 3)

    let query = r.token(column: 3, row: 1)
    try expectMap(
      page, "map=query&layer=1&head=2&query=3,1&fuse=none",
      equals: r.queryMap(column: 3, row: 1, layer: 1, .head(2)), step: step(r, layer: 1, token: query, .head(2)))
    for fusion in HeadFusion.allCases {
      let query = r.token(column: 1, row: 0)
      try expectMap(
        page, "map=query&layer=0&head=2&query=1,0&fuse=\(fusion.rawValue)",
        equals: r.queryMap(column: 1, row: 0, layer: 0, .fused(fusion)), step: step(r, layer: 0, token: query, .fused(fusion)))
      try expectMap(
        page, "map=cls&layer=1&fuse=\(fusion.rawValue)",
        equals: r.classTokenMap(layer: 1, .fused(fusion))!, step: step(r, layer: 1, token: 0, .fused(fusion)))
      let rollout = r.rolloutRow(0, fusion)
      try expectMap(
        page, "map=rollout&fuse=\(fusion.rawValue)",
        equals: Array(rollout[r.prefixTokens...]), step: Double(rollout.max()!) / 255)
    }
  }

  /// A fragment naming a head and no fusion shows that head, though a checkpoint's first
  /// view is the mean over heads; `fuse` in the fragment overrides the head.
  @Test func aHeadInTheFragmentShowsThatHead() throws {
    let scratch = ScratchFolder()
    let page = try makePage(["--weights", timm], in: scratch, patchSize: 16, prefixTokens: 1, classToken: true)
    let r = page.record
    let first = try HeadlessBrowser.find().currentMap(page: page.path, fragment: "")
    #expect(first.state["fuse"] as? String == "mean", "a checkpoint's first view fuses heads")
    for head in [0, 2] {
      let map = try HeadlessBrowser.find().currentMap(page: page.path, fragment: "map=cls&layer=1&head=\(head)")
      #expect(map.state["fuse"] as? String == "none" && map.state["head"] as? Int == head)
      try expectMap(page, "map=cls&layer=1&head=\(head)", equals: r.classTokenMap(layer: 1, .head(head))!, step: step(r, layer: 1, token: 0, .head(head)))
    }
    // The two differ by more than a quantisation step, so the check above can fail.
    let (one, mean) = (r.classTokenMap(layer: 1, .head(0))!, r.classTokenMap(layer: 1, .fused(.mean))!)
    #expect(zip(one, mean).map { abs($0 - $1) }.max()! > 3 * Float(step(r, layer: 1, token: 0, .fused(.mean))))
    try expectMap(page, "map=cls&layer=1&head=0&fuse=max", equals: r.classTokenMap(layer: 1, .fused(.max))!, step: step(r, layer: 1, token: 0, .fused(.max)))
  }

  /// The fragment is the view: every key comes back in `data-state`, out-of-range values
  /// are clamped, and a class-token map on a model without one falls back to the query.
  @Test func fragmentSetsTheViewAndStateReportsIt() throws {
    let scratch = ScratchFolder()
    let page = scratch.file("cat.html")
    let result = try CommandRunner.run([cat, "--html", page, "--out", scratch.file("cat.png")])
    #expect(result.status == 0, "\(result.error)")
    let browser = try HeadlessBrowser.find()
    let map = try browser.currentMap(page: page, fragment: "map=query&layer=0&head=2&query=7,5&fuse=mean&cmap=viridis&alpha=0.3&grid=1")
    #expect(map.state["map"] as? String == "query" && map.state["head"] as? Int == 2 && map.state["fuse"] as? String == "mean")
    #expect(map.state["query"] as? [Int] == [7, 5] && map.state["cmap"] as? String == "viridis" && map.state["alpha"] as? Double == 0.3)
    #expect(map.values.count == 30 * 19)
    let clamped = try browser.currentMap(page: page, fragment: "map=cls&layer=9&head=99&query=100,-3")
    #expect(clamped.state["map"] as? String == "query" && clamped.state["layer"] as? Int == 0 && clamped.state["head"] as? Int == 3)
    #expect(clamped.state["query"] as? [Int] == [29, 0])
    // No fragment: the command's options are the first view (built-in model: head 0, query
    // at the image centre), the same as the figure's.
    let initial = try browser.currentMap(page: page, fragment: "")
    let figurePatch = try #require(try pngText(scratch.file("cat.png"))["query-patch"])
    #expect(initial.state["fuse"] as? String == "none" && initial.state["head"] as? Int == 0)
    #expect((initial.state["query"] as? [Int])?.map(String.init).joined(separator: ",") == figurePatch)
  }

  /// Registers and a non-square grid: 5 prefix tokens (class token, then 4 registers) and
  /// an 8x5 grid of 8-pixel patches.
  @Test func registersAndANonSquareGrid() throws {
    let scratch = ScratchFolder()
    let page = try makePage(["--weights", registers], in: scratch, patchSize: 8, prefixTokens: 5, classToken: true)
    let r = page.record
    #expect(r.gridWidth == 8 && r.gridHeight == 5 && r.tokens == 45)
    let query = r.token(column: 6, row: 4)
    try expectMap(
      page, "map=query&layer=2&head=1&query=6,4&fuse=none",
      equals: r.queryMap(column: 6, row: 4, layer: 2, .head(1)), step: step(r, layer: 2, token: query, .head(1)))
    try expectMap(page, "map=cls&layer=0&fuse=max", equals: r.classTokenMap(layer: 0, .fused(.max))!, step: step(r, layer: 0, token: 0, .fused(.max)))
    let rollout = r.rolloutRow(0, .mean)
    try expectMap(page, "map=rollout&fuse=none", equals: Array(rollout[5...]), step: Double(rollout.max()!) / 255)
  }

  /// Without a class token, rollout follows the query patch (every row is in the page).
  @Test func rolloutWithoutAClassTokenFollowsTheQuery() throws {
    let scratch = ScratchFolder()
    let page = try makePage([], in: scratch, patchSize: 16, prefixTokens: 0, classToken: false)
    let r = page.record
    let rollout = r.rolloutRow(r.token(column: 4, row: 3), .max)
    try expectMap(page, "map=rollout&query=4,3&fuse=max", equals: rollout, step: Double(rollout.max()!) / 255)
    try expectMap(
      page, "map=query&query=20,11&fuse=min", equals: r.queryMap(column: 20, row: 11, layer: 0, .fused(.min)),
      step: step(r, layer: 0, token: r.token(column: 20, row: 11), .fused(.min)))
  }

  /// DINO's keep-mass mask: 0 and 1 only, and the kept patches hold the mass asked for.
  @Test func keepMassMaskHoldsTheMass() throws {
    let scratch = ScratchFolder()
    let page = try makePage([], in: scratch, patchSize: 16, prefixTokens: 0, classToken: false)
    let values = page.record.queryMap(column: 9, row: 7, layer: 0, .head(0))
    let map = try HeadlessBrowser.find().currentMap(page: page.path, fragment: "map=mask&query=9,7&head=0&fuse=none&keep=0.6")
    #expect(map.values.allSatisfy { $0 == 0 || $0 == 1 } && map.values.count == values.count)
    let total = values.reduce(0, +)
    let kept = zip(map.values, values).reduce(Float(0)) { $0 + Float($1.0) * $1.1 }
    let expected = AttentionRecord.keepMassMask(values, keep: 0.6).filter { $0 }.count
    let tolerance = Float(values.count) * values.max()! / 255  // ties after quantisation may order differently
    #expect(kept >= 0.6 * total - tolerance, "kept \(kept) of \(total)")
    #expect(abs(map.values.filter { $0 == 1 }.count - expected) <= 3, "\(map.values.filter { $0 == 1 }.count) kept, Swift keeps \(expected)")
  }
}
