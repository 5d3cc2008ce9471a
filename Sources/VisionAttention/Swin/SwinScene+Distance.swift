import VAImageIO
import VAInspection
import VARendering

/// How far Swin's windowed attention reaches, block by block, beside a CNN's receptive field.
extension SwinScene {
  /// Mean attention distance of block `l`, per head, in input pixels (the ViT paper's
  /// Figure 7 measure, inside windows): over every query slot that reads a real cell, the sum
  /// of its weights to real key cells times their distance on the unshifted map (cell centres,
  /// a cell `P · 2^stage` pixels), averaged over the queries. Padding keys have no place and
  /// count nothing; pairs the shift brought together from opposite edges count their true
  /// distance (the mask leaves them `exp(−100)`-small weights, except where timm pads after
  /// rolling and its mask does not separate them). `[heads]`.
  public func meanDistances(block l: Int) -> [Float] {
    let g = blocks[l], n = g.tokensPerWindow, h = heads(l), cell = Double(cellPixels(l))
    let sources = g.sourceCells()
    var totals = [Double](repeating: 0, count: h)
    var queries = 0
    for w in 0..<g.windowCount {
      for i in 0..<n {
        guard let q = sources[w * n + i] else { continue }
        queries += 1
        for j in 0..<n {
          guard let k = sources[w * n + j] else { continue }
          let (dy, dx) = (Double(q / g.width - k / g.width), Double(q % g.width - k % g.width))
          let d = (dx * dx + dy * dy).squareRoot() * cell
          for head in 0..<h { totals[head] += Double(attention[l][((w * h + head) * n + i) * n + j]) * d }
        }
      }
    }
    return totals.map { Float($0 / Double(max(queries, 1))) }
  }

  /// Mean distance in input pixels from the query point to the mass of its effective field
  /// after block `l` (`effectiveField(fromBlock:)`, cell centres of the first map).
  func fieldReach(block l: Int) -> Float {
    let field = effectiveField(fromBlock: l), g = blocks[0], c = Double(cellPixels(0))
    var total = 0.0
    for (index, v) in field.enumerated() where v != 0 {
      let dx = (Double(index % g.width) + 0.5) * c - Double(point.x), dy = (Double(index / g.width) + 0.5) * c - Double(point.y)
      total += Double(v) * (dx * dx + dy * dy).squareRoot()
    }
    return Float(total)
  }

  /// `--map distance`: per block, each head's mean attention distance and the reach of the
  /// effective field of the image centre (vit-attend warns that `--query` does not apply, as
  /// for a ViT's distance plot), beside the CNN's receptive-field size per layer. Dumps
  /// `distance.{l}` `[heads]` per block and `reach` `[blocks]`.
  func distanceFigure() -> RenderedFigure {
    let count = blocks.count
    let distances = blocks.indices.map(meanDistances(block:))
    let reach = blocks.indices.map(fieldReach(block:))
    let window = blocks.indices.map { l in Double(max(blocks[l].windowWidth, blocks[l].windowHeight) * cellPixels(l)) }
    // One series for every head: stages have their own heads (24 in swin_tiny's last), too
    // many for a legend entry each.
    var series = [
      Plot.Series(
        points: distances.enumerated().flatMap { l, d in d.map { (Double(l), Double($0)) } }, color: RGB.markers[0],
        label: "each head: mean attention distance")
    ]
    series.append(Plot.Series(points: reach.enumerated().map { (Double($0.offset), Double($0.element)) }, color: .text, connected: true, label: "effective field of the centre: mean distance"))
    series.append(Plot.Series(points: window.enumerated().map { (Double($0.offset), $0.element) }, color: RGB.markers[2], connected: true, label: "window side (px)"))
    // Headroom above the data for the three-line legend, which would otherwise cover the
    // window line's last stages.
    let top = max(window.max() ?? 1, Double(reach.max() ?? 0), Double(distances.joined().max() ?? 0)) * 1.6
    let swinPlot = Plot(
      series: series, xLabel: "block", yLabel: "pixels", xRange: -0.5...(Double(count) - 0.5), yRange: 0...top, integerX: true)
    let panels = [
      Panel(
        image: swinPlot.render(width: 420, height: 300),
        caption: ["Swin: each block sees only its window; shifts link windows and each merging doubles a cell, so the reach grows block by block"]),
      CNNFieldPanels.growthPanel(settings.cnn),
    ]
    var figure = RenderedFigure(image: Figure.sideBySide(panels, title: "windowed attention's reach per block beside a CNN's receptive field | \(modelCaption)"))
    for (l, d) in distances.enumerated() { figure.tensors.append(("distance.\(l)", [d.count], d)) }
    figure.tensors.append(("reach", [count], reach))
    return figure
  }

  /// The CNN's receptive field at the query (as `Scene.receptiveFieldPanel` draws it for a
  /// ViT): the theoretical box of the output unit nearest the query, and the effective field
  /// of the same stack with uniform weights inside it.
  func receptiveFieldPanel() -> Panel {
    let cnn = CNNFieldAtPoint(settings.cnn, x: point.x, y: point.y, width: image.width, height: image.height)
    let (field, box) = (cnn.field, cnn.box)
    let (drawn, bar) = cellImage(cnn.erf, gridWidth: image.width, gridHeight: image.height, cell: 1, marked: true)
    var canvas = Canvas(drawn)
    let s = displayScale
    canvas.strokeRect(x: box.x * s, y: box.y * s, width: box.width * s, height: box.height * s, RGB.markers[2], thickness: box.width * s >= 24 ? 2 : 1)
    return Panel(
      image: canvas.image,
      caption: [
        "CNN \(settings.cnn.name): theoretical field \(field.size) px (box), stride \(field.stride); the same at every point",
        cnn.radiiCaption,
      ], colorBar: bar)
  }
}
