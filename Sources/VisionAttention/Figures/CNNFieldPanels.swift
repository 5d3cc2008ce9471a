import VAImageIO
import VAInspection
import VARendering

/// The CNN side of the figures that set attention beside a convolutional stack: what a ViT's
/// `Scene` and a Swin's `SwinScene` both draw, from the stack and the query point alone.
enum CNNFieldPanels {
  /// The stack's receptive-field size per layer as a 420x300 plot, captioned.
  static func growthPanel(_ stack: ConvStack) -> Panel {
    let fields = ReceptiveField.perLayer(stack)
    let plot = Plot(
      series: [Plot.Series(points: fields.enumerated().map { (Double($0.offset), Double($0.element.size)) }, color: RGB.markers[4], connected: true, label: stack.name)],
      xLabel: "CNN layer", yLabel: "receptive field size (px)",
      xRange: -0.5...(Double(fields.count) - 0.5), yRange: 0...Double(fields.last?.size ?? 1) * 1.1, integerX: true)
    return Panel(image: plot.render(width: 420, height: 300), caption: ["CNN: the field grows layer by layer, the same for every pixel"])
  }
}

/// A CNN's receptive field at one pixel of a `width`x`height` image: the theoretical field of
/// the output unit nearest the pixel (units sit `stride` pixels apart, so its box is centred
/// there, not on the pixel itself), and the effective field of the same stack with uniform
/// weights, clipped to the image.
struct CNNFieldAtPoint {
  /// The stack's theoretical field.
  let field: ReceptiveField
  /// The theoretical field's box in image pixels.
  let box: (x: Int, y: Int, width: Int, height: Int)
  /// The effective field's horizontal profile (its radii are the caption's).
  let horizontal: EffectiveReceptiveField
  /// The effective field over the image, `[height · width]` row-major, not normalised.
  let erf: [Float]

  init(_ stack: ConvStack, x: Int, y: Int, width: Int, height: Int) {
    field = ReceptiveField.of(stack)
    box = field.box(aroundPixel: x, y)
    let (unitX, unitY) = (field.nearestUnit(toPixel: x), field.nearestUnit(toPixel: y))
    horizontal = EffectiveReceptiveField(stack: stack, unit: unitX)
    let vertical = horizontal.shifted(byUnits: unitY - unitX, stride: field.stride)
    var erf = [Float](repeating: 0, count: width * height)
    // Only the part of the field inside the image: a field may be far wider than it.
    let ys = max(0, vertical.offset)..<max(0, min(height, vertical.offset + vertical.profile.count))
    let xs = max(0, horizontal.offset)..<max(0, min(width, horizontal.offset + horizontal.profile.count))
    for y in ys {
      let wy = vertical.profile[y - vertical.offset]
      for x in xs { erf[y * width + x] = Float(horizontal.profile[x - horizontal.offset] * wy) }
    }
    self.erf = erf
  }

  /// The caption's last line: the radii holding half and 95% of the effective field's mass.
  var radiiCaption: String {
    let r50 = Int(horizontal.radius(holding: 0.5).rounded()), r95 = Int(horizontal.radius(holding: 0.95).rounded())
    return "effective field, uniform weights: 50% of mass within \(r50) px, 95% within \(r95) px"
  }
}
