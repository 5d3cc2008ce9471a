import VAImageIO
import VAInspection
import VARendering

/// Building blocks shared by every figure.
extension Scene {
  var modelCaption: String { "model: \(model.name)" }

  /// The input with the query point marked.
  func inputPanel() -> Panel {
    var canvas = Canvas(image)
    canvas.marker(x: point.x, y: point.y, RGB.markers[0])
    let size = "\(geometry.originalWidth)x\(geometry.originalHeight)"
    let sized = geometry.scale == 1 ? "used at \(image.width)x\(image.height)" : "resized and cropped to \(image.width)x\(image.height)"
    return Panel(image: canvas.image, caption: ["input \(size), \(sized)", "query (\(query)) = patch (\(patch.column),\(patch.row))"])
  }

  /// A patch-grid map colour-mapped over `base` (the model input by default), with its
  /// colour bar; `marked` draws the query point.
  func heatImage(_ values: [Float], marked: Bool, base: Image? = nil, width: Int? = nil) -> (image: Image, bar: ColorBar) {
    let map = HeatMap(gridWidth: attention.gridWidth, gridHeight: attention.gridHeight, values: values)
    let (low, high) = map.range
    let base = base ?? image
    let targetWidth = width ?? base.width
    let targetHeight = max(1, base.height * targetWidth / base.width)
    let backdrop = targetWidth == base.width ? base : base.resized(width: targetWidth, height: targetHeight, filter: .bilinear)
    var canvas = Canvas(backdrop)
    let pixels = map.normalized().upsampled(width: targetWidth, height: targetHeight, method: settings.upsample)
    canvas.overlay(pixels, width: targetWidth, height: targetHeight, x: 0, y: 0, colormap: settings.colormap, alpha: settings.alpha)
    if marked {
      let scale = Double(targetWidth) / Double(base.width)
      canvas.marker(x: Int(Double(point.x) * scale), y: Int(Double(point.y) * scale), RGB.markers[0], radius: targetWidth < 200 ? 4 : 7)
    }
    return (canvas.image, ColorBar(colormap: settings.colormap, minimum: low, maximum: high))
  }

  func heatPanel(_ values: [Float], caption: [String], marked: Bool) -> Panel {
    let (picture, bar) = heatImage(values, marked: marked)
    return Panel(image: picture, caption: caption, colorBar: bar)
  }

  /// The CNN's receptive field at the query: the theoretical box, and the effective field
  /// of the same stack with uniform weights as a heat map inside it.
  func receptiveFieldPanel() -> (panel: Panel, field: ReceptiveField, erf: [Float]) {
    let field = ReceptiveField.of(settings.cnn)
    let box = field.box(aroundPixel: point.x, point.y)
    let (unitX, unitY) = (field.nearestUnit(toPixel: point.x), field.nearestUnit(toPixel: point.y))
    let horizontal = EffectiveReceptiveField(stack: settings.cnn, unit: unitX)
    let vertical = horizontal.shifted(byUnits: unitY - unitX, stride: field.stride)
    var erf = [Float](repeating: 0, count: image.width * image.height)
    // Only the part of the field inside the image: a field may be far wider than it.
    let ys = max(0, vertical.offset)..<max(0, min(image.height, vertical.offset + vertical.profile.count))
    let xs = max(0, horizontal.offset)..<max(0, min(image.width, horizontal.offset + horizontal.profile.count))
    for y in ys {
      let wy = vertical.profile[y - vertical.offset]
      for x in xs { erf[y * image.width + x] = Float(horizontal.profile[x - horizontal.offset] * wy) }
    }
    let peak = erf.max() ?? 0
    var canvas = Canvas(image)
    canvas.fillRect(x: 0, y: 0, width: image.width, height: image.height, .black, opacity: 0.35)
    canvas.overlay(erf.map { peak > 0 ? $0 / peak : 0 }, width: image.width, height: image.height, x: 0, y: 0, colormap: settings.colormap, alpha: settings.alpha)
    canvas.strokeRect(x: box.x, y: box.y, width: box.width, height: box.height, RGB.markers[2], thickness: 2)
    canvas.marker(x: point.x, y: point.y, RGB.markers[0])
    let r50 = Int(horizontal.radius(holding: 0.5).rounded()), r95 = Int(horizontal.radius(holding: 0.95).rounded())
    let caption = [
      "CNN \(settings.cnn.name): theoretical field \(field.size) px (box),",
      "stride \(field.stride), padding \(field.padding); the same at every point",
      "effective field, uniform weights: 50% of mass within \(r50) px, 95% within \(r95) px",
    ]
    return (Panel(image: canvas.image, caption: caption, colorBar: ColorBar(colormap: settings.colormap, minimum: 0, maximum: peak)), field, erf)
  }
}
