import Foundation
import VAInspection
import Testing

/// The README's page interactions, driven as a user does (`PageAction`: pointer events at a
/// patch's centre, key presses, clicks on thumbnails) and checked by value against the
/// attention rows of the same run read back from `--dump`: hover shows the patch's row, a
/// click pins it (and a second one unpins), ↑/↓ step layers and ←/→ heads, Shift+arrows
/// move the query one patch, and each thumbnail is its head's map.
///
/// Tolerance, as in InspectorPageTests: one quantisation step, the row's maximum over 255.
@Suite(.serialized, .needsBrowser) struct InspectorInteractionTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")
  let registers = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_registers_nonsquare")

  /// A page and the attention of the same run.
  struct Page {
    var path: String
    var record: AttentionRecord
    var grid: (width: Int, height: Int) { (record.gridWidth, record.gridHeight) }
  }

  func makePage(weights: String, patchSize: Int, prefixTokens: Int, in scratch: ScratchFolder) throws -> Page {
    let page = scratch.file("page.html"), dump = scratch.file("dump.safetensors")
    let result = try CommandRunner.run([cat, "--weights", weights, "--html", page, "--dump", dump])
    try #require(result.status == 0, "\(result.error)")
    let file = try DumpFile(path: dump)
    let input = try #require(file.shapes["input"])
    let layers = file.shapes.keys.filter { $0.hasPrefix("attn.") }.count
    let record = AttentionRecord(
      layers: (0..<layers).map { file.tensors["attn.\($0)"]! }, heads: try #require(file.shapes["attn.0"]?.first),
      prefixTokens: prefixTokens, hasClassToken: true, gridWidth: input[2] / patchSize, gridHeight: input[1] / patchSize)
    return Page(path: page, record: record)
  }

  /// Head `head`'s row from `token` at `layer` over the patches, and one quantisation step of it.
  func row(_ r: AttentionRecord, layer: Int, head: Int, token: Int) -> (values: [Float], step: Double) {
    let t = r.tokens
    let full = r.head(head, layer: layer)[(token * t)..<((token + 1) * t)]
    return (Array(full.dropFirst(r.prefixTokens)), Double(full.max()!) / 255)
  }

  func query(_ r: AttentionRecord, _ column: Int, _ row: Int, layer: Int, head: Int) -> (values: [Float], step: Double) {
    self.row(r, layer: layer, head: head, token: r.token(column: column, row: row))
  }

  func expectShows(
    _ snapshot: PageSnapshot, _ expected: (values: [Float], step: Double), _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(snapshot.values.count == expected.values.count, "\(what): \(snapshot.values.count) values", sourceLocation: sourceLocation)
    let worst = zip(snapshot.values, expected.values).map { abs($0 - Double($1)) }.max() ?? .infinity
    #expect(worst <= expected.step + 1e-7, "\(what): off by \(worst), step \(expected.step)", sourceLocation: sourceLocation)
  }

  /// Whether two rows differ by more than three steps somewhere, so a page showing one for
  /// the other fails `expectShows`.
  func distinct(_ a: (values: [Float], step: Double), _ b: (values: [Float], step: Double)) -> Bool {
    zip(a.values, b.values).map { Double(abs($0 - $1)) }.max()! > 3 * max(a.step, b.step)
  }

  /// Hover moves the query: each patch the pointer is over shows that patch's row.
  @Test func hoverShowsThePatchsRow() throws {
    let scratch = ScratchFolder()
    let page = try makePage(weights: registers, patchSize: 8, prefixTokens: 5, in: scratch)
    let r = page.record
    let patches = [(0, 0), (7, 4), (3, 2), (5, 0)]
    let shots = try HeadlessBrowser.find().replay(
      patches.map { .hover(column: $0.0, row: $0.1) }, page: page.path, fragment: "map=query&layer=2&head=1&fuse=none", grid: page.grid)
    try #require(shots.count == patches.count + 1)
    for (shot, (c, row)) in zip(shots.dropFirst(), patches) {
      #expect(shot.query == [c, row] && !shot.pinned, "hover over (\(c),\(row)): \(shot.state)")
      expectShows(shot, query(r, c, row, layer: 2, head: 1), "hover over (\(c),\(row))")
    }
    #expect(distinct(query(r, 0, 0, layer: 2, head: 1), query(r, 7, 4, layer: 2, head: 1)))
  }

  /// A click pins the query: the pointer elsewhere changes nothing until a second click,
  /// which unpins at its own patch, and hover moves the query again.
  @Test func clickPinsAndASecondClickUnpins() throws {
    let scratch = ScratchFolder()
    let page = try makePage(weights: registers, patchSize: 8, prefixTokens: 5, in: scratch)
    let r = page.record
    let actions: [PageAction] = [
      .hover(column: 1, row: 1), .click(column: 6, row: 3), .hover(column: 0, row: 0), .hover(column: 7, row: 4),
      .click(column: 2, row: 4), .hover(column: 4, row: 1),
    ]
    let shots = try HeadlessBrowser.find().replay(actions, page: page.path, fragment: "map=query&layer=1&head=0&fuse=none", grid: page.grid)
    try #require(shots.count == actions.count + 1)
    let expected = { (c: Int, row: Int) in query(r, c, row, layer: 1, head: 0) }
    #expect(shots[2].pinned && shots[2].query == [6, 3], "\(shots[2].state)")
    expectShows(shots[2], expected(6, 3), "after the click on (6,3)")
    for shot in shots[3...4] {
      #expect(shot.pinned && shot.query == [6, 3], "hover while pinned moved the query: \(shot.state)")
      expectShows(shot, expected(6, 3), "hover while pinned")
    }
    #expect(!shots[5].pinned && shots[5].query == [2, 4], "\(shots[5].state)")
    expectShows(shots[5], expected(2, 4), "after the second click, on (2,4)")
    #expect(!shots[6].pinned && shots[6].query == [4, 1], "\(shots[6].state)")
    expectShows(shots[6], expected(4, 1), "hover after unpinning")
    #expect(distinct(expected(6, 3), expected(0, 0)) && distinct(expected(6, 3), expected(7, 4)))
  }

  /// ↑/↓ step layers, ←/→ step heads (wrapping), Shift+arrows move the query one patch
  /// (pinning it, and stopping at the grid's edge); each view is the row of its layer, head
  /// and patch.
  @Test func arrowKeysStepLayersHeadsAndTheQuery() throws {
    let scratch = ScratchFolder()
    let page = try makePage(weights: timm, patchSize: 16, prefixTokens: 1, in: scratch)
    let r = page.record
    try #require(r.gridWidth == 4 && r.gridHeight == 2 && r.layers.count == 2 && r.heads == 3)
    // (action, layer, head, query) after it.
    let steps: [(PageAction, Int, Int, [Int])] = [
      (.hover(column: 1, row: 0), 0, 0, [1, 0]),
      (.key("ArrowDown"), 1, 0, [1, 0]),
      (.key("ArrowRight"), 1, 1, [1, 0]),
      (.key("ArrowLeft"), 1, 0, [1, 0]),
      (.key("ArrowLeft"), 1, 2, [1, 0]),  // wraps to the last head
      (.key("ArrowDown"), 1, 2, [1, 0]),  // no layer below the last
      (.key("ArrowUp"), 0, 2, [1, 0]),
      (.key("ArrowRight", shift: true), 0, 2, [2, 0]),
      (.hover(column: 0, row: 1), 0, 2, [2, 0]),  // pinned by the keys
      (.key("ArrowDown", shift: true), 0, 2, [2, 1]),
      (.key("ArrowDown", shift: true), 0, 2, [2, 1]),  // the grid's last row
      (.key("ArrowLeft", shift: true), 0, 2, [1, 1]),
      (.key("ArrowUp", shift: true), 0, 2, [1, 0]),
    ]
    let shots = try HeadlessBrowser.find().replay(steps.map(\.0), page: page.path, fragment: "map=query&layer=0&head=0&fuse=none", grid: page.grid)
    try #require(shots.count == steps.count + 1)
    for (shot, (action, layer, head, q)) in zip(shots.dropFirst(), steps) {
      let view = "after \(action)"
      #expect(shot.state["layer"] as? Int == layer && shot.state["head"] as? Int == head && shot.query == q, "\(view): \(shot.state)")
      #expect(shot.state["fuse"] as? String == "none")
      expectShows(shot, query(r, q[0], q[1], layer: layer, head: head), view)
    }
    #expect(shots[8...].allSatisfy { $0.pinned }, "Shift+arrows pin the query")
    // Neighbouring layers, heads and patches show different rows, so each check can fail.
    #expect(distinct(query(r, 1, 0, layer: 0, head: 0), query(r, 1, 0, layer: 1, head: 0)))
    #expect(distinct(query(r, 1, 0, layer: 1, head: 0), query(r, 1, 0, layer: 1, head: 1)))
    #expect(distinct(query(r, 1, 0, layer: 0, head: 2), query(r, 2, 0, layer: 0, head: 2)))
  }

  /// The colormap index `paint` gives each value (scaled to the map's own range).
  static func colourIndices(_ values: [Float]) -> [Int] {
    let lo = values.min()!, span = values.max()! - lo
    return values.map { span > 0 ? min(Int((($0 - lo) / span * 256).rounded(.down)), 255) : 0 }
  }

  /// Each thumbnail, its colours read back through the page's colormap, is its head's map
  /// (of the query patch, or of the class token on the class-token map); clicking one
  /// shows that head.
  @Test func thumbnailsShowEachHeadsMap() throws {
    let scratch = ScratchFolder()
    let page = try makePage(weights: registers, patchSize: 8, prefixTokens: 5, in: scratch)
    let r = page.record
    let table = try HeadlessBrowser.colormap("viridis", page: page.path)
    let browser = try HeadlessBrowser.find()
    let views: [(fragment: String, token: Int, layer: Int)] = [
      ("map=query&layer=2&fuse=mean&query=6,3&cmap=viridis", r.token(column: 6, row: 3), 2),
      ("map=cls&layer=0&fuse=max&cmap=viridis", 0, 0),
    ]
    for view in views {
      let shots = try browser.replay([.clickThumbnail(head: 1)], page: page.path, fragment: view.fragment, grid: page.grid)
      try #require(shots.count == 2 && shots[0].thumbnails.count == r.heads, "\(view.fragment)")
      for head in 0..<r.heads {
        let expected = row(r, layer: view.layer, head: head, token: view.token)
        let pixels = shots[0].thumbnails[head]
        try #require(pixels.count == 3 * r.gridWidth * r.gridHeight, "head \(head): \(pixels.count / 3) pixels")
        let shown = try stride(from: 0, to: pixels.count, by: 3).map { i in
          try #require(table.firstIndex(of: Array(pixels[i..<(i + 3)])), "head \(head): a colour not in viridis")
        }
        // Values within one step each move the colour index by at most 256 · 2 steps / span.
        let span = Double(expected.values.max()! - expected.values.min()!)
        let tolerance = 256 * 2 * expected.step / (span - expected.step) + 1
        let worst = zip(shown, Self.colourIndices(expected.values)).map { abs($0 - $1) }.max()!
        #expect(Double(worst) <= tolerance, "\(view.fragment): thumbnail \(head) off by \(worst) colours, tolerance \(tolerance)")
        if head > 0 {
          let other = Self.colourIndices(row(r, layer: view.layer, head: head - 1, token: view.token).values)
          #expect(
            Double(zip(other, Self.colourIndices(expected.values)).map { abs($0 - $1) }.max()!) > 2 * tolerance,
            "heads \(head - 1) and \(head) look alike: the check could not fail")
        }
      }
      let clicked = shots[1]
      #expect(clicked.state["head"] as? Int == 1 && clicked.state["fuse"] as? String == "none", "\(clicked.state)")
      expectShows(clicked, row(r, layer: view.layer, head: 1, token: view.token), "\(view.fragment), thumbnail 1 clicked")
    }
  }
}
