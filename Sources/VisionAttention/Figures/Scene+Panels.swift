import VAImageIO
import VAInspection
import VARendering

/// Building blocks shared by every figure.
extension Scene {
  var modelCaption: String {
    ["model: \(model.name)", predictionCaption].compactMap { $0 }.joined(separator: " | ")
  }

  /// Whole factor by which panels show the model input: a small input (a 64-pixel training
  /// image) is enlarged pixel for pixel until a panel is at least 256 pixels wide, and
  /// markers and outlines are drawn after enlarging, so they stay thin and round.
  var displayScale: Int { max(1, 256 / max(image.width, 1)) }

  /// `picture` (in model-input pixels) enlarged by `displayScale`, nearest neighbour.
  func displayed(_ picture: Image) -> Image {
    let s = displayScale
    return s == 1 ? picture : picture.resized(width: picture.width * s, height: picture.height * s, filter: .nearest)
  }

  /// The query marker on a picture showing the model input at `scale` display pixels per
  /// input pixel, at `at` (the query point by default).
  func queryMarker(scale: Double, at p: (x: Int, y: Int)? = nil, shorterSide: Int) -> QueryMarker {
    let p = p ?? point
    return QueryMarker(
      x: Int((Double(p.x) + 0.5) * scale), y: Int((Double(p.y) + 0.5) * scale),
      patch: Int((Double(geometry.patchSize) * scale).rounded()), shorterSide: shorterSide)
  }

  /// The input, with the query point marked when the figure uses it (`marked`).
  func inputPanel(marked: Bool = true) -> Panel {
    var canvas = Canvas(displayed(image))
    let s = Double(displayScale)
    if marked { canvas.marker(queryMarker(scale: s, shorterSide: min(canvas.width, canvas.height)), RGB.markers[0]) }
    let size = "\(geometry.originalWidth)x\(geometry.originalHeight)"
    let cropped = image.width != geometry.resizedWidth || image.height != geometry.resizedHeight
    var sized =
      switch (geometry.scale == 1 && geometry.verticalScale == 1, cropped) {
      case (true, false): "used at \(image.width)x\(image.height)"
      case (true, true): "cropped to \(image.width)x\(image.height)"
      case (false, false): "resized to \(image.width)x\(image.height)"
      case (false, true): "resized and cropped to \(image.width)x\(image.height)"
      }
    if let factor = geometry.enlargement {
      sized = "smaller than a patch, enlarged \(factor)x (nearest)" + (cropped ? " and cropped" : "") + " to \(image.width)x\(image.height)"
    }
    if displayScale > 1 { sized += ", shown \(displayScale)x" }
    var caption = ["input \(size), \(sized)"]
    if marked { caption.append(queryCaption) }
    return Panel(image: canvas.image, caption: caption)
  }

  /// "query (X,Y) = patch (c,r)", in the input file's pixels.
  var queryCaption: String { "query (\(query)) = patch (\(patch.column),\(patch.row))" }

  /// A patch-grid map colour-mapped over `base` (the model input by default), with its
  /// colour bar; `marked` draws the query point. The picture is `width` pixels wide (the
  /// displayed input's width by default): enlarged pixel for pixel when that is a whole
  /// multiple of `base`, else resampled bilinearly.
  func heatImage(_ values: [Float], marked: Bool, base: Image? = nil, width: Int? = nil) -> (image: Image, bar: ColorBar) {
    let map = HeatMap(gridWidth: attention.gridWidth, gridHeight: attention.gridHeight, values: values)
    let (low, high) = map.range
    let base = base ?? image
    let targetWidth = width ?? base.width * displayScale
    let targetHeight = max(1, base.height * targetWidth / base.width)
    let filter: ResizeFilter = targetWidth % base.width == 0 && targetHeight % base.height == 0 ? .nearest : .bilinear
    let backdrop = targetWidth == base.width ? base : base.resized(width: targetWidth, height: targetHeight, filter: filter)
    var canvas = Canvas(backdrop)
    let pixels = map.normalized().upsampled(width: targetWidth, height: targetHeight, method: settings.upsample)
    canvas.overlay(pixels, width: targetWidth, height: targetHeight, x: 0, y: 0, colormap: settings.colormap, alpha: settings.alpha)
    if marked {
      canvas.marker(queryMarker(scale: Double(targetWidth) / Double(base.width), shorterSide: min(targetWidth, targetHeight)), RGB.markers[0])
    }
    return (canvas.image, ColorBar(colormap: settings.colormap, minimum: low, maximum: high))
  }

  func heatPanel(_ values: [Float], caption: [String], marked: Bool) -> Panel {
    let (picture, bar) = heatImage(values, marked: marked)
    return Panel(image: picture, caption: caption, colorBar: bar)
  }

  /// The CNN's receptive field at the query: the theoretical box, and the effective field
  /// of the same stack with uniform weights as a heat map inside it. The box is the field of
  /// the output unit nearest the query (units sit `stride` pixels apart), so it is centred
  /// there, not on the query itself; the caption says where and why.
  func receptiveFieldPanel() -> (panel: Panel, field: ReceptiveField, erf: [Float]) {
    let cnn = CNNFieldAtPoint(settings.cnn, x: point.x, y: point.y, width: image.width, height: image.height)
    let (field, box, erf) = (cnn.field, cnn.box, cnn.erf)
    let peak = erf.max() ?? 0
    let s = displayScale
    var canvas = Canvas(displayed(image))
    canvas.fillRect(x: 0, y: 0, width: canvas.width, height: canvas.height, .black, opacity: 0.35)
    let shown = HeatMap(gridWidth: image.width, gridHeight: image.height, values: erf.map { peak > 0 ? $0 / peak : 0 })
      .upsampled(width: canvas.width, height: canvas.height, method: .nearest)
    canvas.overlay(shown, width: canvas.width, height: canvas.height, x: 0, y: 0, colormap: settings.colormap, alpha: settings.alpha)
    // The marker first, grown to ring a field smaller than itself; the box's outline above it.
    let (bx, by, bw, bh) = (box.x * s, box.y * s, box.width * s, box.height * s)
    canvas.marker(queryMarker(scale: Double(s), shorterSide: min(canvas.width, canvas.height)).enclosing(boxX: bx, boxY: by, width: bw, height: bh), RGB.markers[0])
    canvas.strokeRect(x: bx, y: by, width: bw, height: bh, RGB.markers[2], thickness: bw >= 24 ? 2 : 1)
    let centre = (x: field.center(ofUnit: field.nearestUnit(toPixel: point.x)), y: field.center(ofUnit: field.nearestUnit(toPixel: point.y)))
    func coordinate(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
    var caption = [
      "CNN \(settings.cnn.name): theoretical field \(field.size) px (box),",
      "stride \(field.stride), padding \(field.padding); the same at every point",
    ]
    if field.stride > 1 || centre.x != Double(point.x) || centre.y != Double(point.y) {
      caption.append("box centred at (\(coordinate(centre.x)),\(coordinate(centre.y))): the field of the output unit nearest the query at (\(point.x),\(point.y)) of the \(image.width)x\(image.height) model input (units are \(field.stride) px apart)")
    }
    caption.append(cnn.radiiCaption)
    return (Panel(image: canvas.image, caption: caption, colorBar: ColorBar(colormap: settings.colormap, minimum: 0, maximum: peak)), field, erf)
  }
}
