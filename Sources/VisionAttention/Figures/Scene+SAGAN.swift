import VAImageIO
import VAInspection
import VAModels
import VARendering
import VATensorCore

/// SAGAN attention over the training-free CNN feature bank, at the same points as the ViT's.
extension Scene {
  /// Feature cells above which a rows record (above `--full-attention-limit`) computes SAGAN
  /// on a scaled-down image (2048: `[N, N]` is 16 MiB of weights, at most 4 MiB of page rows).
  /// The PNG figure and the page both read it.
  static let saganMaximumCells = 2048

  /// The feature-map attention of the model input (cropped to a multiple of 8): `[N, N]`
  /// over a `gridWidth × gridHeight` map of 8-pixel cells of `image`, which is the model input
  /// scaled down by `factor`. The factor is 1 unless the attention record keeps only rows
  /// (above `--full-attention-limit`): then the smallest whole factor leaving at most
  /// `saganMaximumCells` cells, since `[N, N]` grows with the square of the pixels.
  func saganAttention() -> (gridWidth: Int, gridHeight: Int, weights: [Float], image: Image, factor: Int) {
    var factor = 1
    while !attention.isFull, (image.width / (8 * factor)) * (image.height / (8 * factor)) > Self.saganMaximumCells {
      factor += 1
    }
    let small = factor == 1 ? image : image.resized(width: image.width / factor, height: image.height / factor, filter: .bicubic)
    let cropped = small.cropped(x: 0, y: 0, width: small.width / 8 * 8, height: small.height / 8 * 8)
    let rgb = Tensor(shape: [3, cropped.height, cropped.width], scalars: cropped.planarFloats())
    let out = FeatureSAGAN().attention(rgb: rgb)
    return (out.gridWidth, out.gridHeight, out.weights.scalars, cropped, factor)
  }

  /// The feature-map cell under a pixel of the (scaled) SAGAN image.
  private func cell(_ p: (x: Int, y: Int), gridWidth: Int, gridHeight: Int) -> Int {
    min(p.y / 8, gridHeight - 1) * gridWidth + min(p.x / 8, gridWidth - 1)
  }

  private func saganMap(_ weights: [Float], query: Int, gridWidth: Int, gridHeight: Int, base: Image, marker: (x: Int, y: Int), color: RGB) -> (Image, ColorBar) {
    let n = gridWidth * gridHeight
    let map = HeatMap(gridWidth: gridWidth, gridHeight: gridHeight, values: Array(weights[(query * n)..<((query + 1) * n)]))
    var canvas = Canvas(displayed(base))
    canvas.overlay(map.normalized().upsampled(width: canvas.width, height: canvas.height, method: settings.upsample), width: canvas.width, height: canvas.height, x: 0, y: 0, colormap: settings.colormap, alpha: settings.alpha)
    canvas.marker(queryMarker(scale: Double(displayScale), at: marker, shorterSide: min(canvas.width, canvas.height)), color)
    let (low, high) = map.range
    return (canvas.image, ColorBar(colormap: settings.colormap, minimum: low, maximum: high))
  }

  /// The default figure's SAGAN panel: the query point's attention over the feature map.
  func saganPanel() -> Panel {
    let sagan = saganAttention()
    let at = (x: point.x / sagan.factor, y: point.y / sagan.factor)
    let query = cell(at, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight)
    let (picture, bar) = saganMap(sagan.weights, query: query, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight, base: sagan.image, marker: at, color: RGB.markers[0])
    return Panel(
      image: picture,
      caption: [
        "SAGAN attention over CNN features (fixed edge and colour filters, 1/\(8 * sagan.factor) scale, untrained identity query/key)",
        "also global: a CNN with a self-attention block",
      ], colorBar: bar)
  }

  /// SAGAN's Figure 5: several colour-coded query points, each with its attention map.
  func saganFigure() -> RenderedFigure {
    let sagan = saganAttention()
    let fractions: [(Double, Double)] = [(0.25, 0.3), (0.75, 0.3), (0.5, 0.8)]
    let points: [(x: Int, y: Int)] = [(point.x / sagan.factor, point.y / sagan.factor)] + fractions.map { (x: Int($0.0 * Double(sagan.image.width)), y: Int($0.1 * Double(sagan.image.height))) }
    var overview = Canvas(displayed(sagan.image))
    for (i, p) in points.enumerated() {
      overview.marker(queryMarker(scale: Double(displayScale), at: p, shorterSide: min(overview.width, overview.height)), RGB.markers[i])
    }
    var panels = [Panel(image: overview.image, caption: ["query points (the first is --query)"])]
    var rows: [Float] = []
    let n = sagan.gridWidth * sagan.gridHeight
    for (i, p) in points.enumerated() {
      let query = cell(p, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight)
      rows += sagan.weights[(query * n)..<((query + 1) * n)]
      let (picture, bar) = saganMap(sagan.weights, query: query, gridWidth: sagan.gridWidth, gridHeight: sagan.gridHeight, base: sagan.image, marker: p, color: RGB.markers[i])
      panels.append(Panel(image: picture, caption: ["cell (\(query % sagan.gridWidth),\(query / sagan.gridWidth))"], colorBar: bar))
    }
    var figure = RenderedFigure(image: Figure.sideBySide(panels, title: "SAGAN attention over CNN feature maps (fixed filters, untrained identity query/key, \(8 * sagan.factor)-pixel cells)"))
    figure.tensors.append(("sagan.attn", [points.count, n], rows))
    return figure
  }
}
