import Foundation
import Testing
import VAImageIO

/// The maps that are not one overlay, on every family, by value: the heads grid's cells are
/// each head's row, the mask panels keep the fewest patches holding the stated mass, and
/// the dumped attention distance is the weighted mean distance recomputed from the dumped
/// attention (which FamilyMapValueTests checks against each family's reference).
@Suite(.serialized) struct FamilyFigureValueTests {
  typealias Family = FamilyMapValueTests.Family
  typealias Grid = FamilyMapValueTests.Grid

  /// For a model without a class token the maps follow a query: a patch centre, so the
  /// marker's ring (at most 10 pixels across) misses every other patch's centre.
  static func query(_ family: Family, _ grid: Grid) -> (arguments: [String], patch: Int?) {
    guard !family.hasClassToken else { return ([], nil) }
    let (c, r) = (grid.columns / 2, grid.rows / 2)
    return (["-q", grid.centre(c, r)], r * grid.columns + c)
  }

  /// A dump of the family's input, for its grid and attention.
  static func dump(_ family: Family, in scratch: ScratchFolder) throws -> DumpFile {
    try FamilyMapValueTests.run(family, ["--style", "bare"], in: scratch).dump
  }

  /// `--map heads`: every layer × head cell, found in the figure, shows that head's row of
  /// the class token (or the query), each scaled to its own range; a pooling head adds a
  /// row of its heads' maps.
  @Test(arguments: FamilyMapValueTests.figureFamilies) func headsCellsAreEachHeadsRow(name: String) throws {
    let family = Family(name: name)
    let scratch = ScratchFolder()
    let image = family.input, kept = ["--resize", "none"]
    let grid = try Grid(try FamilyMapValueTests.run(family, ["--style", "bare"] + kept, image: image, in: scratch).dump)
    let (arguments, marked) = Self.query(family, grid)
    let (figure, dump) = try FamilyMapValueTests.run(family, ["-m", "heads"] + kept + arguments, image: image, in: scratch)
    let layers = MapOracle.layers(dump)
    // Cells are the input enlarged by a whole factor to at least 128 pixels wide.
    let scale = (127 + grid.width) / grid.width
    let block = (grid.patch * scale, grid.patch * scale)
    var maps: [(String, [Double])] = []
    let token = marked.map { grid.prefix + $0 } ?? 0
    for (l, layer) in layers.enumerated() {
      for h in 0..<layer.heads { maps.append(("layer \(l) head \(h)", Array(layer.row(token, head: h)[grid.prefix...]))) }
    }
    if dump.shapes["attn.pool"] != nil {
      for h in 0..<dump.shapes["attn.pool"]![0] { maps.append(("pool head \(h)", try FamilyMapValueTests.poolMap(dump, .head(h)))) }
    }
    var found: Set<[Int]> = []
    for (what, map) in maps {
      let levels = MapOracle.normalised(map).map { Int(($0 * 255).rounded()) }
      let at = FigureReader.locate(in: figure, gridWidth: grid.columns, gridHeight: grid.rows, block: block, skip: { $0 == marked && !what.hasPrefix("pool") }, expected: { [levels[$0], levels[$0], levels[$0]] })
      #expect(at != nil, "\(name): no cell of the heads figure shows \(what)")
      if let at { found.insert([at.x, at.y]) }
    }
    // Each map in a cell of its own (maps of different heads differ in these models).
    #expect(found.count == maps.count, "\(name): \(maps.count) maps found in \(found.count) cells")
  }

  /// `--map mask`: each head's panel is the input with the patches outside its keep-mass mask
  /// dimmed to 40%, and that mask holds at least 60% of the head's attention over the patches
  /// with as few patches as possible: the largest ones, dropping its smallest loses the mass.
  @Test(arguments: FamilyMapValueTests.figureFamilies) func maskPanelsKeepTheStatedMass(name: String) throws {
    let family = Family(name: name)
    let scratch = ScratchFolder()
    let grid = try Grid(try Self.dump(family, in: scratch))
    let (arguments, marked) = Self.query(family, grid)
    let (figure, dump) = try FamilyMapValueTests.run(family, ["-m", "mask", "--keep", "0.6"] + arguments, in: scratch)
    let input = try Image(contentsOfFile: family.input).rgb()
    let layers = MapOracle.layers(dump), last = layers[layers.count - 1]
    // Panels show the input enlarged by a whole factor to at least 256 pixels wide.
    let scale = max(1, 256 / grid.width)
    let block = (grid.patch * scale, grid.patch * scale)
    let token = marked.map { grid.prefix + $0 } ?? 0
    for h in 0..<last.heads {
      let map = Array(last.row(token, head: h)[grid.prefix...])
      let order = map.indices.sorted { map[$0] > map[$1] }
      let total = map.reduce(0, +)
      var kept: Set<Int> = [], mass = 0.0
      for i in order where mass < 0.6 * total {
        kept.insert(i)
        mass += map[i]
      }
      let smallest = kept.map { map[$0] }.min()!
      #expect(mass >= 0.6 * total && mass - smallest < 0.6 * total)
      let at = FigureReader.locate(
        in: figure, gridWidth: grid.columns, gridHeight: grid.rows, block: block, tolerance: 2, skip: { $0 == marked },
        expected: { i in
          let (x, y) = (i % grid.columns * grid.patch + grid.patch / 2, i / grid.columns * grid.patch + grid.patch / 2)
          let pixel = (0..<3).map { Int(input.pixels[(y * input.width + x) * 3 + $0]) }
          return kept.contains(i) ? pixel : pixel.map { Int((Double($0) * 0.4).rounded()) }
        })
      #expect(at != nil, "\(name): no panel shows head \(h)'s mask of \(kept.count) of \(map.count) patches")
    }
  }

  /// `--map distance`: the dumped `distance` `[layers, heads]` is the attention-weighted mean
  /// distance between patch centres, recomputed from the dumped attention.
  @Test(arguments: FamilyMapValueTests.figureFamilies) func distanceIsTheWeightedMeanDistance(name: String) throws {
    let family = Family(name: name)
    let scratch = ScratchFolder()
    let (_, dump) = try FamilyMapValueTests.run(family, ["-m", "distance"], in: scratch)
    let grid = try Grid(dump)
    let layers = MapOracle.layers(dump)
    let expected = MapOracle.meanDistances(layers, gridWidth: grid.columns, gridHeight: grid.rows, patchSize: grid.patch)
    #expect(dump.shapes["distance"] == [layers.count, layers[0].heads])
    let got = try #require(dump.tensors["distance"]).map(Double.init)
    #expect(FigureReader.worst(got, expected) < 1e-4 * (expected.max() ?? 1), "\(name): \(got) against \(expected)")
  }

  /// `--map posembed`: cell (c, r) shows the cosine similarity of patch (c, r)'s position
  /// embedding to every patch's, all cells on one scale. Every family's grid is symmetric with
  /// a white diagonal (similarity 1, the largest); where the checkpoint's `pos_embed` is at the
  /// input's grid (no resampling), every cell is the similarity computed here from the
  /// checkpoint's tensor (timm_clip_quickgelu, timm_eva02_clip, timm_eva02_packed).
  @Test(arguments: FamilyMapValueTests.figureFamilies) func positionSimilarityIsTheCheckpointsCosine(name: String) throws {
    let family = Family(name: name)
    let scratch = ScratchFolder()
    let (figure, dump) = try FamilyMapValueTests.run(family, ["-m", "posembed"], in: scratch)
    let grid = try Grid(dump)
    let (gw, gh, n) = (grid.columns, grid.rows, grid.patches)
    // One to four pixels per patch and 2 between cells, the whole panel enlarged by a whole
    // factor to at least 256 pixels wide.
    let scale = max(1, min(4, 1200 / (gw * max(gw, gh))))
    let enlarged = max(1, 256 / (gw * (gw * scale + 2)))
    func pixel(_ origin: (x: Int, y: Int), cell a: Int, patch b: Int) -> Int {
      let x = origin.x + (a % gw * (gw * scale + 2) + b % gw * scale) * enlarged + scale * enlarged / 2
      let y = origin.y + (a / gw * (gh * scale + 2) + b / gw * scale) * enlarged + scale * enlarged / 2
      return Int(figure.pixels[(y * figure.width + x) * 3])
    }
    let (w, h) = (gw * (gw * scale + 2) * enlarged, gh * (gh * scale + 2) * enlarged)
    // The grid: a white diagonal, symmetric, and black somewhere (the smallest similarity);
    // the figure's white background alone passes the first two.
    func isGrid(_ origin: (x: Int, y: Int)) -> Bool {
      (0..<n).allSatisfy { pixel(origin, cell: $0, patch: $0) >= 252 }
        && (0..<(n * n)).allSatisfy { abs(pixel(origin, cell: $0 / n, patch: $0 % n) - pixel(origin, cell: $0 % n, patch: $0 / n)) <= 2 }
        && (0..<(n * n)).contains { pixel(origin, cell: $0 / n, patch: $0 % n) <= 3 }
    }
    var origin: (x: Int, y: Int)?
    search: for y in 0...max(0, figure.height - h) {
      for x in 0...max(0, figure.width - w) where isGrid((x, y)) {
        origin = (x, y)
        break search
      }
    }
    // BEiT and the RoPE ViTs without a table (DINOv3 among them) have relative or rotary
    // positions only, and say so instead; the DeiT fixture's position embeddings are zeros
    // (transformers initialises them so), whose similarity is flat.
    guard !["timm_beit", "hf_deit_distilled", "timm_rope", "timm_rope_mixed", "timm_rope_reg_gap"].contains(name) && !name.contains("dinov3") else {
      #expect(origin == nil, "\(name) has no position embeddings to compare")
      return
    }
    let at = try #require(origin, "\(name): no \(gw)x\(gh) grid of cells, symmetric with a white diagonal")
    // The checkpoint's own table at the input's grid (a square input on the model's square
    // grid, with the class token's entry first when it has one) is compared value by value.
    guard name.hasPrefix("timm_"), gw == gh else { return }
    let weights = try DumpFile(path: family.folder + "/model.safetensors")
    guard let table = weights.tensors["pos_embed"], let shape = weights.shapes["pos_embed"], shape[1] - n == (family.hasClassToken ? 1 : 0) else { return }
    let d = shape[2], skip = shape[1] - n
    let rows = (0..<n).map { i in table[((skip + i) * d)..<((skip + i + 1) * d)].map(Double.init) }
    var cosine = [Double](repeating: 0, count: n * n)
    for a in 0..<n {
      for b in 0..<n {
        let dot = zip(rows[a], rows[b]).reduce(0) { $0 + $1.0 * $1.1 }
        cosine[a * n + b] = dot / (rows[a].reduce(0) { $0 + $1 * $1 } * rows[b].reduce(0) { $0 + $1 * $1 }).squareRoot()
      }
    }
    let expected = MapOracle.normalised(cosine)
    let shown = (0..<(n * n)).map { Double(pixel(at, cell: $0 / n, patch: $0 % n)) / 255 }
    #expect(FigureReader.worst(shown, expected) <= FamilyMapValueTests.tolerance, "\(name): cells against the checkpoint's pos_embed")
  }
}
