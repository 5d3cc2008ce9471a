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
  @Test(arguments: FamilyMapValueTests.families) func headsCellsAreEachHeadsRow(name: String) throws {
    let family = Family(name: name)
    let scratch = ScratchFolder()
    let grid = try Grid(try Self.dump(family, in: scratch))
    let (arguments, marked) = Self.query(family, grid)
    let (figure, dump) = try FamilyMapValueTests.run(family, ["-m", "heads"] + arguments, in: scratch)
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
      let at = FigureReader.locate(in: figure, gridWidth: grid.columns, gridHeight: grid.rows, block: block, skip: { $0 == marked && !what.hasPrefix("pool") }) { [levels[$0], levels[$0], levels[$0]] }
      #expect(at != nil, "\(name): no cell of the heads figure shows \(what)")
      if let at { found.insert([at.x, at.y]) }
    }
    // Each map in a cell of its own (maps of different heads differ in these models).
    #expect(found.count == maps.count, "\(name): \(maps.count) maps found in \(found.count) cells")
  }

  /// `--map mask`: each head's panel is the input with the patches outside its keep-mass mask
  /// dimmed to 40%, and that mask holds at least 60% of the head's attention over the patches
  /// with as few patches as possible: the largest ones, dropping its smallest loses the mass.
  @Test(arguments: FamilyMapValueTests.families) func maskPanelsKeepTheStatedMass(name: String) throws {
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
      let at = FigureReader.locate(in: figure, gridWidth: grid.columns, gridHeight: grid.rows, block: block, tolerance: 2, skip: { $0 == marked }) { i in
        let (x, y) = (i % grid.columns * grid.patch + grid.patch / 2, i / grid.columns * grid.patch + grid.patch / 2)
        let pixel = (0..<3).map { Int(input.pixels[(y * input.width + x) * 3 + $0]) }
        return kept.contains(i) ? pixel : pixel.map { Int((Double($0) * 0.4).rounded()) }
      }
      #expect(at != nil, "\(name): no panel shows head \(h)'s mask of \(kept.count) of \(map.count) patches")
    }
  }

  /// `--map distance`: the dumped `distance` `[layers, heads]` is the attention-weighted mean
  /// distance between patch centres, recomputed from the dumped attention.
  @Test(arguments: FamilyMapValueTests.families) func distanceIsTheWeightedMeanDistance(name: String) throws {
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
}
