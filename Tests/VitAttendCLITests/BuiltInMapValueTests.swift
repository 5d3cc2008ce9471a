import Foundation
import Testing
import VAImageIO

/// Every map of the built-in model on cat.png, by value: each figure against its map
/// recomputed in the test from the run's own `--dump` (`MapOracle`), drawn in gray at full
/// opacity so that pixels read back as normalised values. The built-in model has no class
/// token (570 patch tokens on the 30x19 grid of the 480x304 input) and shows head 0.
@Suite(.serialized) struct BuiltInMapValueTests {
  let cat = CommandRunner.repositoryFile("images/cat.png")
  /// 170,113 in the file is patch (11, 7) of the model input (GeometryTests).
  let columns = 30, rows = 19, patch = 16, query = 7 * 30 + 11

  func run(_ arguments: [String], in scratch: ScratchFolder) throws -> (figure: Image, dump: DumpFile, text: [String: String]) {
    let (png, dump) = (scratch.file("f.png"), scratch.file("d.safetensors"))
    let result = try CommandRunner.run([cat, "-q", "170,113", "-o", png, "--dump", dump] + FamilyMapValueTests.gray + arguments)
    #expect(result.status == 0, "\(arguments): \(result.error)")
    return (try Image(contentsOfFile: png).rgb(), try DumpFile(path: dump), try pngText(png))
  }

  /// The query patch and its eight neighbours: where the query marker may ink.
  func nearQuery(_ i: Int) -> Bool { abs(i % columns - query % columns) <= 1 && abs(i / columns - query / columns) <= 1 }

  @Test func queryAndRolloutAreTheirRecomputation() throws {
    let scratch = ScratchFolder()
    let (figure, dump, text) = try run(["--style", "bare", "-m", "query"], in: scratch)
    #expect(text["query-patch"] == "11,7" && text["head"] == "0")
    let layers = MapOracle.layers(dump)
    #expect(!layers.isEmpty && layers.allSatisfy { $0.tokens == 570 && $0.heads == 4 })
    let shown = FigureReader.blocks(figure, gridWidth: columns, gridHeight: rows, block: (patch, patch))
    let expected = MapOracle.normalised(layers[layers.count - 1].row(query, head: 0))
    #expect(FigureReader.worst(shown, expected) <= FamilyMapValueTests.tolerance)

    // Rollout of the query's token (no class token), and three rows of the dumped [T, T].
    let (rollout, rolloutDump, _) = try run(["--style", "bare", "-m", "rollout"], in: scratch)
    let dumped = try #require(rolloutDump.tensors["rollout"])
    for token in [0, query, 569] {
      let row = MapOracle.rolloutRow(layers, query: token)
      #expect(FigureReader.worst(dumped[(token * 570)..<((token + 1) * 570)].map(Double.init), row) < 1e-5, "rollout row \(token)")
    }
    let figureRow = FigureReader.blocks(rollout, gridWidth: columns, gridHeight: rows, block: (patch, patch))
    #expect(FigureReader.worst(figureRow, MapOracle.normalised(MapOracle.rolloutRow(layers, query: query))) <= FamilyMapValueTests.tolerance)
  }

  /// Every layer x head cell of `--map heads` is that head's row of the query patch; cells
  /// are 180x114 pixels, 6 per patch.
  @Test func headsCellsAreEachHeadsRow() throws {
    let scratch = ScratchFolder()
    let (figure, dump, _) = try run(["-m", "heads"], in: scratch)
    let layers = MapOracle.layers(dump)
    var found: Set<[Int]> = []
    for (l, layer) in layers.enumerated() {
      for h in 0..<layer.heads {
        let levels = MapOracle.normalised(layer.row(query, head: h)).map { Int(($0 * 255).rounded()) }
        let at = FigureReader.locate(in: figure, gridWidth: columns, gridHeight: rows, block: (6, 6), skip: nearQuery) { [levels[$0], levels[$0], levels[$0]] }
        #expect(at != nil, "no cell shows layer \(l) head \(h)")
        if let at { found.insert([at.x, at.y]) }
      }
    }
    #expect(found.count == layers.count * 4)
  }

  /// `--map mask --keep 0.5`: each head's panel dims (to 40%) exactly the patches outside the
  /// fewest that hold half of its attention.
  @Test func maskPanelsKeepTheStatedMass() throws {
    let scratch = ScratchFolder()
    let (figure, dump, _) = try run(["-m", "mask", "--keep", "0.5"], in: scratch)
    let input = try #require(dump.tensors["input"]).map { Int(($0 * 255).rounded()) }
    let last = MapOracle.layers(dump).last!
    for h in 0..<4 {
      let map = last.row(query, head: h)
      let order = map.indices.sorted { map[$0] > map[$1] }
      let total = map.reduce(0, +)
      var kept: Set<Int> = [], mass = 0.0
      for i in order where mass < 0.5 * total {
        kept.insert(i)
        mass += map[i]
      }
      #expect(mass - kept.map { map[$0] }.min()! < 0.5 * total)
      let at = FigureReader.locate(in: figure, gridWidth: columns, gridHeight: rows, block: (patch, patch), tolerance: 2, skip: nearQuery) { i in
        let (x, y) = (i % columns * patch + patch / 2, i / columns * patch + patch / 2)
        let pixel = (0..<3).map { input[$0 * 480 * 304 + y * 480 + x] }
        return kept.contains(i) ? pixel : pixel.map { Int((Double($0) * 0.4).rounded()) }
      }
      #expect(at != nil, "no panel shows head \(h)'s mask of \(kept.count) patches")
    }
  }

  @Test func distanceIsTheWeightedMeanDistance() throws {
    let scratch = ScratchFolder()
    let (_, dump, _) = try run(["-m", "distance"], in: scratch)
    let layers = MapOracle.layers(dump)
    let expected = MapOracle.meanDistances(layers, gridWidth: columns, gridHeight: rows, patchSize: patch)
    let got = try #require(dump.tensors["distance"]).map(Double.init)
    #expect(dump.shapes["distance"] == [layers.count, 4])
    #expect(FigureReader.worst(got, expected) < 1e-3, "\(got) against \(expected)")
  }

  /// `--map posembed`: cell (c, r) of the 30x19 cells (one pixel per patch, 2 apart) is the
  /// similarity of patch (c, r)'s embedding to every patch's, on one scale: each cell is
  /// brightest at its own patch (similarity 1, the largest) and the grid is symmetric.
  @Test func positionSimilarityIsSymmetricWithItsPeakOnTheDiagonal() throws {
    let scratch = ScratchFolder()
    let (figure, _, text) = try run(["-m", "posembed"], in: scratch)  // warns that it ignores -q
    #expect(text["map"] == "posembed")
    func pixel(_ origin: (x: Int, y: Int), cell a: Int, patch b: Int) -> Int {
      let x = origin.x + a % columns * (columns + 2) + b % columns, y = origin.y + a / columns * (rows + 2) + b / columns
      return Int(figure.pixels[(y * figure.width + x) * 3])
    }
    let (w, h) = (columns * (columns + 2), rows * (rows + 2))
    var origin: (x: Int, y: Int)?
    search: for y in 0...(figure.height - h) {
      // A white diagonal and a few symmetric pairs (the white background between cells
      // alone can pass for a diagonal).
      for x in 0...(figure.width - w)
      where (0..<570).allSatisfy({ pixel((x, y), cell: $0, patch: $0) >= 252 })
        && stride(from: 0, to: 570, by: 7).allSatisfy({ abs(pixel((x, y), cell: $0, patch: ($0 * 31 + 17) % 570) - pixel((x, y), cell: ($0 * 31 + 17) % 570, patch: $0)) <= 2 })
      {
        origin = (x, y)
        break search
      }
    }
    let at = try #require(origin, "no 30x19 grid of cells with a white diagonal")
    var asymmetric = 0, dark = 0
    for a in 0..<570 {
      for b in 0..<570 {
        if abs(pixel(at, cell: a, patch: b) - pixel(at, cell: b, patch: a)) > 2 { asymmetric += 1 }
        if pixel(at, cell: a, patch: b) < 128 { dark += 1 }
      }
    }
    #expect(asymmetric == 0 && dark > 0, "\(asymmetric) asymmetric pairs, \(dark) dark cells")
  }

  /// The default colours, by value: with the default inferno at the default opacity 0.6, the
  /// query map's peak patch is 0.6 · inferno's top colour + 0.4 · the input there, and its
  /// lowest patch the same with inferno's bottom colour (matplotlib's table ends, 0-1 floats).
  @Test func theOverlayBlendsTheColormapsEndsAtTheMapsPeakAndFloor() throws {
    let scratch = ScratchFolder()
    let (png, file) = (scratch.file("f.png"), scratch.file("d.safetensors"))
    let result = try CommandRunner.run([cat, "-q", "170,113", "--style", "bare", "-m", "query", "--upsample", "nearest", "-o", png, "--dump", file])
    #expect(result.status == 0, "\(result.error)")
    let (figure, dump) = (try Image(contentsOfFile: png).rgb(), try DumpFile(path: file))
    let input = try #require(dump.tensors["input"])
    let map = MapOracle.layers(dump).last!.row(query, head: 0)
    let top = [0.988362, 0.998364, 0.644924], bottom = [0.001462, 0.000466, 0.013866]
    for (patchIndex, colour) in [(map.indices.max { map[$0] < map[$1] }!, top), (map.indices.min { map[$0] < map[$1] }!, bottom)] {
      let (x, y) = (patchIndex % columns * patch + patch / 2, patchIndex / columns * patch + patch / 2)
      for c in 0..<3 {
        let expected = 0.6 * colour[c] * 255 + 0.4 * Double(input[c * 480 * 304 + y * 480 + x]) * 255
        let shown = Double(figure.pixels[(y * figure.width + x) * 3 + c])
        #expect(abs(shown - expected) <= 1.5, "patch \(patchIndex) channel \(c): \(shown), expected \(expected)")
      }
    }
  }

  /// `--map sagan`: each of the four query points' panels shows its row of the dumped
  /// `sagan.attn` `[4, 2280]` (the 60x38 feature map of 8-pixel cells) scaled to its own
  /// range, and each row is a softmax.
  @Test func saganPanelsShowTheDumpedRows() throws {
    let scratch = ScratchFolder()
    let (figure, dump, _) = try run(["-m", "sagan"], in: scratch)
    #expect(dump.shapes["sagan.attn"] == [4, 2280])
    let rows = try #require(dump.tensors["sagan.attn"])
    // The query (181, 113) of the model input, then 1/4, 3/4 and 1/2 of its width at 0.3,
    // 0.3 and 0.8 of its height: markers ring these cells.
    let marked = [(22, 14), (15, 11), (45, 11), (30, 30)]
    func nearAPoint(_ i: Int) -> Bool { marked.contains { abs(i % 60 - $0.0) <= 1 && abs(i / 60 - $0.1) <= 1 } }
    for q in 0..<4 {
      let row = rows[(q * 2280)..<((q + 1) * 2280)].map(Double.init)
      #expect(abs(row.reduce(0, +) - 1) < 1e-3 && row.allSatisfy { $0 >= 0 }, "row \(q) is not a softmax")
      let levels = MapOracle.normalised(row).map { Int(($0 * 255).rounded()) }
      let at = FigureReader.locate(in: figure, gridWidth: 60, gridHeight: 38, block: (8, 8), skip: nearAPoint) { [levels[$0], levels[$0], levels[$0]] }
      #expect(at != nil, "no panel shows query point \(q)'s row")
    }
  }
}
