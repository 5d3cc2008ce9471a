import VAImageIO
import VARendering

/// The figures a detection run writes: loss curves, and validation images with their boxes and
/// each detected object's decoder attention (DETR's Figure 6).
public enum DetectionFigures {
  /// The colour of ground-truth boxes; predictions take `RGB.markers` in turn from the second.
  public static let truthColor = RGB.markers[0]

  /// One panel per curve (`curves[name]`, one value per entry of `steps`), in name order with
  /// `loss` first, three to a row; curves of more than 200 points are averaged over windows.
  public static func curves(_ curves: [String: [Double]], steps: [Int]) -> Image {
    let names = curves.keys.sorted { ($0 == "loss" ? 0 : 1, $0) < ($1 == "loss" ? 0 : 1, $1) }
    precondition(!names.isEmpty, "no curves to draw")
    let panels: [Image] = names.enumerated().map { i, name in
      let values = curves[name]!
      precondition(values.count == steps.count, "curve \(name) has \(values.count) values for \(steps.count) steps")
      let window = max(1, values.count / 200)
      let points: [(x: Double, y: Double)] = stride(from: 0, to: values.count, by: window).compactMap { start in
        let chunk = values[start..<min(values.count, start + window)].filter(\.isFinite)
        guard !chunk.isEmpty else { return nil }
        return (Double(steps[min(values.count, start + window) - 1]), chunk.reduce(0, +) / Double(chunk.count))
      }
      let plot = Plot(
        series: [Plot.Series(points: points, color: RGB.markers[i % RGB.markers.count], connected: true, label: name)],
        xLabel: "step", yLabel: window > 1 ? "\(name) (mean of \(window))" : name)
      return plot.render(width: 360, height: 260)
    }
    let rows = stride(from: 0, to: panels.count, by: 3).map { Array(panels[$0..<min(panels.count, $0 + 3)]) }
    return Figure.grid(rows, rowLabels: rows.map { _ in "" }, columnLabels: [], title: "training curves")
  }

  /// One row per example: the image with true boxes (`truthColor`, green) and predicted ones (coloured,
  /// labelled with class and score), then each detection's cross-attention over the image with
  /// its box. Cells are `cell × cell` pixels, the image fitted inside.
  public static func validation(_ examples: [DetectionExample], classNames: [String], cell: Int = 192) -> Image {
    precondition(!examples.isEmpty, "no examples to draw")
    let objects = max(1, examples.map(\.detections.count).max() ?? 1)
    let rows: [[Image]] = examples.map { example in
      let fit = Fit(image: example.image, cell: cell)
      var boxes = fit.canvas()
      for box in example.truthBoxes { fit.stroke(box, on: &boxes, truthColor) }
      for (j, detection) in example.detections.enumerated() {
        fit.stroke(detection.box, on: &boxes, color(j))
        fit.label(detection, classNames: classNames, on: &boxes, color(j))
      }
      var row = [boxes.image]
      for j in 0..<objects {
        var canvas = fit.canvas()
        if j < example.detections.count {
          if let map = example.attention[j] {
            let values = map.normalized().upsampled(width: fit.width, height: fit.height, method: .bilinear)
            canvas.overlay(values, width: fit.width, height: fit.height, x: fit.x, y: fit.y, colormap: .inferno, alpha: 0.6)
          }
          fit.stroke(example.detections[j].box, on: &canvas, color(j))
          fit.label(example.detections[j], classNames: classNames, on: &canvas, color(j))
        } else {
          canvas = Canvas(width: cell, height: cell)
        }
        row.append(canvas.image)
      }
      return row
    }
    return Figure.grid(
      rows, rowLabels: examples.map(\.caption), columnLabels: ["boxes (green: truth)"] + (1...objects).map { "object \($0): attention" },
      title: "validation images: boxes and each detected object's decoder cross-attention (last layer, heads averaged)",
      colorBar: ColorBar(colormap: .inferno, minimum: 0, maximum: 1))
  }

  /// The colour of detection `j`.
  static func color(_ j: Int) -> RGB { RGB.markers[1 + j % (RGB.markers.count - 1)] }

  /// An image scaled to fit a square cell, centred, and the mapping of its pixels into it.
  struct Fit {
    let image: Image
    let cell: Int, scale: Float, width: Int, height: Int, x: Int, y: Int

    init(image: Image, cell: Int) {
      let scale = Float(cell) / Float(max(image.width, image.height))
      let (width, height) = (max(1, Int((Float(image.width) * scale).rounded())), max(1, Int((Float(image.height) * scale).rounded())))
      let filter: ResizeFilter = scale >= 1 ? .nearest : .bilinear
      self.image = image.resized(width: width, height: height, filter: filter)
      (self.cell, self.scale, self.width, self.height, self.x, self.y) = (cell, scale, width, height, (cell - width) / 2, (cell - height) / 2)
    }

    /// A white cell with the image drawn in.
    func canvas() -> Canvas {
      var canvas = Canvas(width: cell, height: cell)
      canvas.draw(image, x: x, y: y)
      return canvas
    }

    /// `box` (image pixels) outlined, 2 px wide, inside its scaled bounds.
    func stroke(_ box: PixelBox, on canvas: inout Canvas, _ color: RGB) {
      let x0 = x + Int((box.minX * scale).rounded(.down)), y0 = y + Int((box.minY * scale).rounded(.down))
      let x1 = x + Int((box.maxX * scale).rounded(.up)), y1 = y + Int((box.maxY * scale).rounded(.up))
      canvas.strokeRect(x: x0, y: y0, width: max(x1 - x0, 2), height: max(y1 - y0, 2), color, thickness: 2)
    }

    /// "class 0.93" above the box's top-left corner (inside the cell).
    func label(_ detection: Detection, classNames: [String], on canvas: inout Canvas, _ color: RGB) {
      let name = classNames.indices.contains(detection.label) ? classNames[detection.label] : "class \(detection.label)"
      let text = "\(name) \(Int((detection.score * 100).rounded()))%"
      let line = BitmapFont.lineHeight()
      let tx = min(max(0, x + Int(detection.box.minX * scale)), max(0, cell - BitmapFont.width(of: text)))
      let ty = max(0, y + Int(detection.box.minY * scale) - line - 1)
      canvas.fillRect(x: tx, y: ty, width: BitmapFont.width(of: text) + 2, height: line, .white, opacity: 0.7)
      canvas.text(text, x: tx + 1, y: ty, color)
    }
  }
}
