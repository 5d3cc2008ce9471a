import VAImageIO
import VAInspection
import VARendering

/// The figures that are charts or grids rather than overlays.
extension Scene {
  /// Mean attention distance of every head per layer (ViT paper, Figure 7), beside the
  /// CNN's receptive-field size per layer.
  func distanceFigure() -> RenderedFigure {
    let distances = attention.meanDistances(patchSize: geometry.patchSize)
    let layers = attention.layers.count
    let series = (0..<attention.heads).map { h in
      Plot.Series(
        points: (0..<layers).map { l in (Double(l), Double(distances[l * attention.heads + h])) },
        color: RGB.markers[h % RGB.markers.count], label: ["head \(h)", model.headName(h)].compactMap { $0 }.joined(separator: " "))
    }
    let diagonal = Double(image.width * image.width + image.height * image.height).squareRoot()
    let attentionPlot = Plot(
      series: series, xLabel: "layer", yLabel: "mean attention distance (px)",
      xRange: -0.5...(Double(layers) - 0.5), yRange: 0...max(Double(distances.max() ?? 0) * 1.15, diagonal / 4), integerX: true)
    let panels = [
      Panel(image: attentionPlot.render(width: 420, height: 300), caption: ["self-attention: each head can reach across the whole image from layer 0"]),
      CNNFieldPanels.growthPanel(settings.cnn),
    ]
    var figure = RenderedFigure(image: Figure.sideBySide(panels, title: "mean attention distance per head | \(modelCaption)"))
    figure.tensors.append(("distance", [layers, attention.heads], distances))
    return figure
  }

  /// Cosine similarity of each patch's position embedding with every other's (ViT paper,
  /// Figure 10), one small map per patch laid out on the grid.
  func positionFigure() -> RenderedFigure {
    let gw = attention.gridWidth, gh = attention.gridHeight, n = gw * gh
    guard let embeddings = model.positionEmbeddings(gridWidth: gw, gridHeight: gh) else {
      return RenderedFigure(image: Figure.sideBySide([inputPanel(marked: false)], title: "this model has no position embeddings"))
    }
    let similarity = AttentionRecord.cosineSimilarities(embeddings, count: n)
    // Cells of one to four pixels per patch, so a 14x14 grid and a 30x19 one both fit a
    // screen.
    let scale = max(1, min(4, 1200 / (gw * max(gw, gh))))
    let low = similarity.min() ?? -1, high = similarity.max() ?? 1
    let spacing = 2
    let cellWidth = gw * scale, cellHeight = gh * scale
    var canvas = Canvas(width: gw * (cellWidth + spacing), height: gh * (cellHeight + spacing))
    for q in 0..<n {
      let map = HeatMap(gridWidth: gw, gridHeight: gh, values: Array(similarity[(q * n)..<((q + 1) * n)]))
      let pixels = map.normalized(to: (low, high)).upsampled(width: cellWidth, height: cellHeight, method: .nearest)
      canvas.overlay(pixels, width: cellWidth, height: cellHeight, x: q % gw * (cellWidth + spacing), y: q / gw * (cellHeight + spacing), colormap: settings.colormap, alpha: 1)
    }
    let panel = Panel(image: canvas.image, caption: ["cell (c, r): similarity of patch (c, r)'s position embedding to every patch's"], colorBar: ColorBar(colormap: settings.colormap, minimum: low, maximum: high))
    return RenderedFigure(image: Figure.sideBySide([panel], title: "position-embedding similarity, \(gw)x\(gh) grid | \(modelCaption)"))
  }

  /// The CNN receptive field at the query, beside the attention of the same point.
  func receptiveFieldFigure() -> RenderedFigure {
    let (panel, _, erf) = receptiveFieldPanel()
    var figure = RenderedFigure(image: Figure.sideBySide([inputPanel(), panel], title: "CNN receptive field at the query | \(settings.cnn.name)"))
    let fields = ReceptiveField.perLayer(settings.cnn)
    figure.tensors += [
      ("rf.size", [fields.count], fields.map { Float($0.size) }),
      ("rf.stride", [fields.count], fields.map { Float($0.stride) }),
      ("rf.padding", [fields.count], fields.map { Float($0.padding) }),
      ("erf", [image.height, image.width], erf),
    ]
    return figure
  }
}
