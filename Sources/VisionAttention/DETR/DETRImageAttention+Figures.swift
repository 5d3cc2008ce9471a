import Foundation
import VAImageIO
import VAModels
import VARendering
import VATensorCore

/// DETR's two attention figures, drawn with the renderer every figure uses.
extension DETRImageAttention {
  /// The width panels show the model input at: at most 480 pixels (an 800×1066 input would
  /// make a figure of several thousand), small inputs enlarged by `Figure.sideBySide`.
  static let panelWidth = 480
  /// Panels per row of the detection figure.
  static let panelsPerRow = 4
  /// The most detections the figure draws a map of (the rest are listed in the caption).
  static let mostMaps = 11

  /// DETR's Figure 6 (Carion et al. 2020): the detections above `threshold` on the input, each
  /// box in its own colour with its label and score, then for each detected object decoder
  /// layer `layer`'s (default: the last) cross-attention of its query over the image, heads
  /// averaged as DETR's notebook reads `nn.MultiheadAttention`, with its box in the same colour.
  public func detectionFigure(threshold: Float, layer: Int? = nil, colormap: Colormap = .inferno, alpha: Float = 0.6, upsample: Upsampling = .bicubic) -> RenderedFigure {
    let layers = output.decoderCrossAttention.count
    let l = layer ?? layers - 1
    let found = detections(threshold: threshold)
    let shown = Array(found.sorted { $0.score > $1.score }.prefix(Self.mostMaps))
    let (base, scale) = displayBase()
    var canvas = Canvas(base)
    for (i, d) in found.enumerated() { drawBox(d, color: Self.color(i), scale: scale, on: &canvas, labelled: true) }
    var caption = ["input \(originalWidth)x\(originalHeight), resized to \(image.width)x\(image.height)"]
    caption.append(
      found.isEmpty
        ? "no detection scores above \(threshold)" + (bestGuess.map { " (best: \($0))" } ?? "")
        : "\(found.count) detection\(found.count == 1 ? "" : "s") above \(threshold)")
    if found.count > shown.count { caption.append("maps of the \(shown.count) best shown; all \(found.count) boxed") }
    var panels = [Panel(image: canvas.image, caption: caption)]
    for d in shown {
      let i = found.firstIndex(of: d)!
      let map = output.crossAttentionMap(query: d.query, layer: l)
      var (picture, bar) = heatImage(map, base: base, colormap: colormap, alpha: alpha, upsample: upsample)
      drawBox(d, color: Self.color(i), scale: scale, on: &picture, labelled: false)
      panels.append(Panel(image: picture.image, caption: ["\(label(d.label)) \(Self.percent(d.score)), query \(d.query)"], colorBar: bar))
    }
    let title = "\(modelCaption) | decoder layer \(l) of \(layers): each object query's cross-attention, heads averaged (DETR Fig. 6)"
    return RenderedFigure(image: Self.rows(panels, title: title))
  }

  /// DETR's Figure 3: encoder layer `layer`'s (default: the last) self-attention at the
  /// feature cell under input-file pixel `(x, y)`, heads averaged, beside the input with the
  /// point marked.
  public func encoderFigure(x: Int, y: Int, layer: Int? = nil, colormap: Colormap = .inferno, alpha: Float = 0.6, upsample: Upsampling = .bicubic) -> RenderedFigure {
    let layers = output.encoderAttention.count
    let l = layer ?? layers - 1
    let cell = featureCell(atOriginalX: x, y: y)
    let map = output.encoderAttentionMap(row: cell.row, column: cell.column, layer: l)
    let (base, scale) = displayBase()
    let marker = QueryMarker(
      x: Int((Double(x) + 0.5) * Double(image.width) / Double(originalWidth) * scale),
      y: Int((Double(y) + 0.5) * Double(image.height) / Double(originalHeight) * scale),
      patch: Int((Double(output.featureStride) * scale).rounded()), shorterSide: min(base.width, base.height))
    var input = Canvas(base)
    input.marker(marker, RGB.markers[0])
    var (picture, bar) = heatImage(map, base: base, colormap: colormap, alpha: alpha, upsample: upsample)
    picture.marker(marker, RGB.markers[0])
    let panels = [
      Panel(image: input.image, caption: ["input \(originalWidth)x\(originalHeight), resized to \(image.width)x\(image.height)", "query (\(x),\(y)) = cell (\(cell.column),\(cell.row)) of \(output.featureWidth)x\(output.featureHeight)"]),
      Panel(image: picture.image, caption: ["encoder layer \(l) of \(layers) self-attention at cell (\(cell.column),\(cell.row)), heads averaged"], colorBar: bar),
    ]
    return RenderedFigure(image: Figure.sideBySide(panels, title: "\(modelCaption) | encoder self-attention at a point (DETR Fig. 3)"))
  }

  /// "model: DETR detr-resnet-50 (timm resnet50 backbone)".
  var modelCaption: String {
    let backbone =
      switch model.imported.model.configuration.backbone {
      case .timm(let name): "timm \(name)"
      case .huggingFaceResNet: "transformers ResNet"
      }
    return "model: DETR \((model.path as NSString).lastPathComponent) (\(backbone) backbone)"
  }

  /// The best query's label and score, for a caption without detections.
  var bestGuess: String? {
    output.detections(threshold: -1, width: originalWidth, height: originalHeight).max { $0.score < $1.score }.map { "\(label($0.label)) \(Self.percent($0.score))" }
  }

  /// The model input at panel size, and display pixels per input pixel: a small input is
  /// enlarged by a whole factor, nearest neighbour, to at least 256 pixels wide (as ViT
  /// figures show a small input), so boxes and labels are drawn at the size they are shown.
  func displayBase() -> (image: Image, scale: Double) {
    let factor = max(1, 256 / max(image.width, 1))
    if factor > 1 { return (image.resized(width: image.width * factor, height: image.height * factor, filter: .nearest), Double(factor)) }
    let width = min(image.width, Self.panelWidth)
    guard width != image.width else { return (image, 1) }
    let height = max(1, Int((Double(image.height) * Double(width) / Double(image.width)).rounded()))
    return (image.resized(width: width, height: height, filter: .bilinear), Double(width) / Double(image.width))
  }

  /// A feature map `[h, w]` over `base`: each cell covers 32×32 input pixels from the top left
  /// (the backbone's stride; the last row and column may reach past the image, as the
  /// convolutions' padding does), normalised to [0, 1] and colour-mapped.
  func heatImage(_ map: Tensor, base: Image, colormap: Colormap, alpha: Float, upsample: Upsampling) -> (Canvas, ColorBar) {
    let heat = HeatMap(gridWidth: output.featureWidth, gridHeight: output.featureHeight, values: map.scalars)
    let (low, high) = heat.range
    let perCell = Double(output.featureStride) * Double(base.width) / Double(image.width)
    let (fullWidth, fullHeight) = (max(base.width, Int((Double(heat.gridWidth) * perCell).rounded())), max(base.height, Int((Double(heat.gridHeight) * perCell).rounded())))
    let full = heat.normalized().upsampled(width: fullWidth, height: fullHeight, method: upsample)
    var cropped = [Float](repeating: 0, count: base.width * base.height)
    for y in 0..<base.height {
      for x in 0..<base.width { cropped[y * base.width + x] = full[y * fullWidth + x] }
    }
    var canvas = Canvas(base)
    canvas.overlay(cropped, width: base.width, height: base.height, x: 0, y: 0, colormap: colormap, alpha: alpha)
    return (canvas, ColorBar(colormap: colormap, minimum: low, maximum: high))
  }

  /// Detection `d`'s box (input-file pixels) on a picture at `scale` display pixels per model
  /// input pixel; `labelled` adds its label and score on a band of its colour.
  func drawBox(_ d: DETRDetection, color: RGB, scale: Double, on canvas: inout Canvas, labelled: Bool) {
    let (sx, sy) = (Double(image.width) / Double(originalWidth) * scale, Double(image.height) / Double(originalHeight) * scale)
    let x0 = Int((Double(d.minX) * sx).rounded()), y0 = Int((Double(d.minY) * sy).rounded())
    let x1 = Int((Double(d.maxX) * sx).rounded()), y1 = Int((Double(d.maxY) * sy).rounded())
    canvas.strokeRect(x: x0, y: y0, width: max(1, x1 - x0), height: max(1, y1 - y0), color, thickness: 2)
    guard labelled else { return }
    let text = "\(label(d.label)) \(Self.percent(d.score))"
    let (w, h) = (BitmapFont.width(of: text) + 4, BitmapFont.lineHeight() + 2)
    let (tx, ty) = (min(max(0, x0), max(0, canvas.width - w)), min(max(0, y0 - h), max(0, canvas.height - h)))
    canvas.fillRect(x: tx, y: ty, width: w, height: h, color)
    canvas.text(text, x: tx + 2, y: ty + 1, .black)
  }

  /// The `i`th detection's colour (Okabe & Ito's, in turn).
  static func color(_ i: Int) -> RGB { RGB.markers[i % RGB.markers.count] }

  /// "0.93".
  static func percent(_ score: Float) -> String { String(format: "%.2f", score) }

  /// Panels in rows of `panelsPerRow`, the title over the first, stacked on white.
  static func rows(_ panels: [Panel], title: String) -> Image {
    let rows = stride(from: 0, to: panels.count, by: panelsPerRow).map { start in
      Figure.sideBySide(Array(panels[start..<min(start + panelsPerRow, panels.count)]), title: start == 0 ? title : nil)
    }
    var canvas = Canvas(width: rows.map(\.width).max()!, height: rows.map(\.height).reduce(0, +))
    var y = 0
    for row in rows {
      canvas.draw(row, x: 0, y: y)
      y += row.height
    }
    return canvas.image
  }
}
