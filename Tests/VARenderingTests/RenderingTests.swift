import VAImageIO
import Testing
@testable import VARendering

struct ColormapTests {
  /// Values from matplotlib 3.11: `matplotlib.colormaps[name](x, bytes=True)`, every map,
  /// at x = 0, 0.5, 0.7 and 1, printed by Scripts/reference/colormap_checks.py. (A typed
  /// table: as one literal in `@Test(arguments:)` it is too slow to type-check.)
  static let samples: [(Colormap, [(Int, Int, Int)])] = [
    (.viridis, [(68, 1, 84), (32, 144, 140), (68, 190, 112), (253, 231, 36)]),
    (.inferno, [(0, 0, 3), (187, 55, 84), (243, 119, 25), (252, 254, 164)]),
    (.magma, [(0, 0, 3), (182, 54, 121), (246, 112, 91), (251, 252, 191)]),
    (.plasma, [(12, 7, 134), (203, 71, 119), (242, 132, 75), (239, 248, 33)]),
    (.turbo, [(48, 18, 59), (164, 252, 59), (253, 163, 48), (122, 4, 2)]),
    (.jet, [(0, 0, 127), (124, 255, 121), (255, 196, 0), (127, 0, 0)]),
    (.gray, [(0, 0, 0), (128, 128, 128), (179, 179, 179), (255, 255, 255)]),
  ]

  @Test(arguments: samples)
  func matchesMatplotlib(map: Colormap, expected: [(Int, Int, Int)]) {
    for (x, colour) in zip([Float(0), 0.5, 0.7, 1], expected) {
      let (r, g, b) = map.color(x)
      #expect((Int(r), Int(g), Int(b)) == colour, "\(map) at \(x)")
    }
  }

  /// Every entry of every table: Σ (k + 1) · byte_k over the 768 bytes of matplotlib 3.11's
  /// `colormaps[name](np.linspace(0, 1, 256), bytes=True)[:, :3]`, computed with matplotlib
  /// (not from ColormapTables.swift; Scripts/reference/colormap_checks.py prints them), so
  /// one wrong entry anywhere fails.
  static let checksums: [(Colormap, Int)] = [
    (.viridis, 36_984_319), (.inferno, 39_581_066), (.magma, 44_692_475), (.plasma, 42_467_807),
    (.turbo, 36_677_060), (.jet, 36_832_696), (.gray, 50_209_128),
  ]

  @Test(arguments: checksums)
  func everyEntryMatchesMatplotlib(map: Colormap, checksum: Int) {
    var sum = 0
    for entry in 0..<256 {
      let (r, g, b) = map.color((Float(entry) + 0.5) / 256)
      for (c, value) in [r, g, b].enumerated() { sum += (entry * 3 + c + 1) * Int(value) }
    }
    #expect(sum == checksum, "\(map)")
  }
}

struct HeatMapTests {
  let grid = HeatMap(gridWidth: 3, gridHeight: 2, values: [0, 1, 4, 2, 3, 9])

  /// torch.nn.functional.interpolate(size=(4, 5), mode="bilinear", align_corners=False).
  @Test func bilinearMatchesTorch() {
    let expected: [Float] = [0, 0.4, 1, 2.8, 4, 0.5, 0.9, 1.5, 3.75, 5.25, 1.5, 1.9, 2.5, 5.65, 7.75, 2, 2.4, 3, 6.6, 9]
    let out = grid.upsampled(width: 5, height: 4, method: .bilinear)
    #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(out)")
  }

  /// torch's bicubic (a = −0.75) with its overshoot clipped to the grid's range 0…9.
  @Test func bicubicMatchesTorchClipped() {
    let torch: [Float] = [
      -0.306937, -0.016155, 0.789063, 2.503422, 3.730282, 0.357125, 0.576189, 1.453125, 3.777094, 5.486063,
      1.450875, 1.551814, 2.546875, 5.874907, 8.377938, 2.114938, 2.144158, 3.210938, 7.148579, 10.133720,
    ]
    let out = grid.upsampled(width: 5, height: 4, method: .bicubic)
    #expect(zip(out, torch.map { min(max($0, 0), 9) }).allSatisfy { abs($0 - $1) < 1e-4 }, "\(out)")
  }

  @Test func nearestKeepsPatchBlocks() {
    let out = grid.upsampled(width: 6, height: 4, method: .nearest)
    #expect(Array(out[0..<6]) == [0, 0, 1, 1, 4, 4])
    #expect(Array(out[18..<24]) == [2, 2, 3, 3, 9, 9])
  }

  @Test func normalisationMapsToUnitRange() {
    let n = grid.normalized()
    #expect(n.values.min() == 0 && n.values.max() == 1)
    #expect(HeatMap(gridWidth: 2, gridHeight: 1, values: [3, 3]).normalized().values == [0, 0])
  }
}

struct CanvasTests {
  @Test func overlayBlendsWithAlpha() {
    var canvas = Canvas(width: 2, height: 1, background: RGB(100, 100, 100))
    canvas.overlay([0, 1], width: 2, height: 1, x: 0, y: 0, colormap: .gray, alpha: 0.5)
    #expect(canvas.pixel(x: 0, y: 0) == RGB(50, 50, 50))
    #expect(canvas.pixel(x: 1, y: 0) == RGB(178, 178, 178))  // (100 + 255) / 2 = 177.5, rounded
  }

  @Test func rectanglesAreClippedAtTheBorder() {
    var canvas = Canvas(width: 10, height: 8)
    canvas.strokeRect(x: -5, y: 2, width: 10, height: 4, .black)
    #expect(canvas.pixel(x: 4, y: 2) == .black)
    #expect(canvas.pixel(x: 4, y: 3) == .black)  // the right edge, x = -5 + 10 - 1
    #expect(canvas.pixel(x: 3, y: 3) == .white)
    #expect(canvas.pixel(x: 5, y: 2) == .white)
  }

  @Test func textDrawsInkWithinItsWidth() {
    var canvas = Canvas(width: 60, height: 20)
    canvas.text("Ag", x: 2, y: 2)
    let width = BitmapFont.width(of: "Ag")
    #expect(width == 2 * BitmapFont.cellWidth)
    var inked = 0, outside = 0
    for y in 0..<20 {
      for x in 0..<60 where canvas.pixel(x: x, y: y) != .white {
        inked += 1
        if x >= 2 + width { outside += 1 }
      }
    }
    #expect(inked > 20 && outside == 0)
  }

  @Test func contourOutlinesTheMask() {
    var canvas = Canvas(width: 40, height: 40)
    canvas.contour(mask: [false, false, false, false, true, false, false, false, false], gridWidth: 3, gridHeight: 3, x: 0, y: 0, width: 39, height: 39, .black, thickness: 1)
    #expect(canvas.pixel(x: 20, y: 13) == .black)  // top edge of the centre cell
    #expect(canvas.pixel(x: 20, y: 20) == .white)  // its inside stays clear
    #expect(canvas.pixel(x: 5, y: 5) == .white)
  }
}

struct FigureTests {
  @Test func panelsSitSideBySideWithCaptions() {
    let a = Image(width: 30, height: 20, channels: 3, filledWith: 0)
    let b = Image(width: 50, height: 40, channels: 3, filledWith: 0)
    let figure = Figure.sideBySide([Panel(image: a, caption: ["first"]), Panel(image: b, caption: ["second", "two lines"])], title: "title", minimumPanelWidth: 0)
    // Each column is as wide as its image or its widest caption line ("two lines": 9 glyphs).
    let glyph = BitmapFont.cellWidth, line = BitmapFont.lineHeight()
    #expect(figure.width == 2 * Figure.margin + max(30, 5 * glyph) + Figure.gap + max(50, 9 * glyph))
    #expect(figure.height == 2 * Figure.margin + (line + Figure.captionGap) + 40 + Figure.captionGap + 2 * line)
    let canvas = Canvas(figure)
    #expect(canvas.pixel(x: Figure.margin + 1, y: Figure.margin + 20 + 1) == .black)  // inside panel a
  }

  /// Small panels (a 64-pixel training image) are enlarged by a whole factor, pixel for pixel.
  @Test func smallPanelsAreEnlarged() {
    var small = Image(width: 60, height: 40, channels: 3, filledWith: 255)
    small.pixels[0] = 0  // top-left pixel's red
    let figure = Figure.sideBySide([Panel(image: small, caption: [])], minimumPanelWidth: 256)
    // 256 / 60 = 4: the panel is 240 x 160, each source pixel a 4 x 4 block.
    #expect(figure.width == 2 * Figure.margin + 240)
    let canvas = Canvas(figure)
    #expect(canvas.pixel(x: Figure.margin + 3, y: Figure.margin + 3).r == 0)
    #expect(canvas.pixel(x: Figure.margin + 4, y: Figure.margin + 3).r == 255)
  }

  /// A title wider than the panels wraps onto more lines instead of running off the figure,
  /// and every line is drawn.
  @Test func aLongTitleWrapsToTheFiguresWidth() {
    let panel = Panel(image: Image(width: 100, height: 50, channels: 3, filledWith: 255), caption: [])
    let title = "vit-attend | model: ViT D=128, depth 4, 4 heads, conv stem, 8-pixel cells (timm layout)"
    let short = Figure.sideBySide([panel], title: "short", minimumPanelWidth: 0)
    let long = Figure.sideBySide([panel], title: title, minimumPanelWidth: 0)
    let line = BitmapFont.lineHeight()
    let lines = Figure.wrap(title, width: long.width - 2 * Figure.margin)
    #expect(lines.count > 1 && lines.joined(separator: " ") == title)
    #expect(long.width == short.width && long.height == short.height + (lines.count - 1) * line)
    let canvas = Canvas(long)
    let lastLine = (Figure.margin + (lines.count - 1) * line)..<(Figure.margin + lines.count * line)
    #expect(lastLine.contains { y in (Figure.margin..<(long.width - Figure.margin)).contains { canvas.pixel(x: $0, y: y) != .white } })
  }

  /// A grid's long title wraps to the cells' width instead of widening the figure into
  /// empty space (the heads figure of a 64-pixel model under a long model caption).
  @Test func aGridsLongTitleWrapsToItsCells() {
    let cells = [[Image](repeating: Image(width: 128, height: 128, channels: 3, filledWith: 0), count: 4)]
    let title = String(repeating: "every head's attention | model caption ", count: 8)
    let plain = Figure.grid(cells, rowLabels: ["layer 0"], columnLabels: ["head 0"])
    let titled = Figure.grid(cells, rowLabels: ["layer 0"], columnLabels: ["head 0"], title: title)
    let lines = Figure.wrap(title, width: titled.width - 2 * Figure.margin)
    #expect(titled.width == plain.width && lines.count > 1)
    #expect(titled.height == plain.height + lines.count * BitmapFont.lineHeight() + Figure.captionGap)
  }

  @Test func wrapBreaksAtSpaces() {
    #expect(Figure.wrap("one two three four", width: 10 * BitmapFont.cellWidth) == ["one two", "three four"])
  }
}
