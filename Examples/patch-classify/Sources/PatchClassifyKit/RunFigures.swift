import VAImageIO
import VARendering

/// The figures a run writes: training curves, the confusion matrix, attention overlays.
public enum RunFigures {
  /// Training loss (per step, smoothed) beside train and validation accuracy per epoch.
  public static func curves(_ history: TrainingHistory, stepsPerEpoch: Int) -> Image {
    let losses = history.stepLosses
    let window = max(1, losses.count / 100)
    let smoothed: [(x: Double, y: Double)] = stride(from: 0, to: losses.count, by: window).map { start in
      let chunk = losses[start..<min(losses.count, start + window)]
      return (Double(start + chunk.count) / Double(max(stepsPerEpoch, 1)), Double(chunk.reduce(0, +)) / Double(chunk.count))
    }
    let epochs = Double(max(1, history.epochs.last?.epoch ?? 1))
    let loss = Plot(
      series: [Plot.Series(points: smoothed, color: RGB.markers[0], connected: true, label: "train loss")],
      xLabel: "epoch", yLabel: "training loss (smoothed)", xRange: 0...max(epochs, smoothed.last?.x ?? 1))
    let accuracy = Plot(
      series: [
        Plot.Series(points: history.epochs.map { (Double($0.epoch), $0.trainAccuracy) }, color: RGB.markers[0], connected: true, label: "train"),
        Plot.Series(points: history.epochs.map { (Double($0.epoch), $0.validationAccuracy) }, color: RGB.markers[1], connected: true, label: "validation"),
      ],
      xLabel: "epoch", yLabel: "accuracy", integerX: true)
    // Each axis carries its own title, so the panels need no captions repeating them.
    return Figure.sideBySide(
      [
        Panel(image: loss.render(width: 420, height: 300), caption: []),
        Panel(image: accuracy.render(width: 420, height: 300), caption: []),
      ], title: "training curves")
  }

  /// `confusion[true][predicted]` as a grid of counts shaded by each row's fraction.
  public static func confusion(_ confusion: [[Int]], classNames: [String]) -> Image {
    let k = classNames.count, cell = 44
    let labelWidth = (classNames.map { BitmapFont.width(of: $0) }.max() ?? 0) + 12
    let line = BitmapFont.lineHeight()
    let (left, top) = (labelWidth, 2 * line + 16)
    var canvas = Canvas(width: left + k * cell + 12, height: top + k * cell + labelWidth + 8)
    canvas.text("rows: true class, columns: predicted", x: 6, y: 4)
    for t in 0..<k {
      let total = max(1, confusion[t].reduce(0, +))
      canvas.text(classNames[t], x: left - BitmapFont.width(of: classNames[t]) - 6, y: top + t * cell + (cell - line) / 2)
      for p in 0..<k {
        let fraction = Float(confusion[t][p]) / Float(total)
        let (r, g, b) = Colormap.viridis.color(fraction)
        canvas.fillRect(x: left + p * cell, y: top + t * cell, width: cell - 1, height: cell - 1, RGB(r, g, b))
        let count = String(confusion[t][p])
        canvas.text(
          count, x: left + p * cell + (cell - BitmapFont.width(of: count)) / 2, y: top + t * cell + (cell - line) / 2,
          fraction > 0.5 ? .black : .white)
      }
    }
    for p in 0..<k {
      // Column labels under the grid turned on their side (matplotlib's rotation=90), so a
      // long class name is written whole instead of cut to the cell's width.
      let name = classNames[p]
      canvas.verticalText(name, x: left + p * cell + (cell - line) / 2, y: top + k * cell + 6)
    }
    return canvas.image
  }

  /// One row per image: the image (with its object's outline when known), then each
  /// evidence map over it.
  public static func overlays(images: [Image], evidence: [EvidenceMaps], masks: [[Bool]]?, captions: [String], scale: Int = 4) -> Image {
    let names = evidence.first?.maps.map(\.name) ?? []
    var rows: [[Image]] = []
    for (i, image) in images.enumerated() {
      let (w, h) = (image.width * scale, image.height * scale)
      let big = image.resized(width: w, height: h, filter: .nearest)
      var plain = Canvas(big)
      if let mask = masks?[i] {
        plain.contour(mask: mask, gridWidth: image.width, gridHeight: image.height, x: 0, y: 0, width: w, height: h, RGB.markers[2], thickness: 1)
      }
      var row = [plain.image]
      for (_, values) in evidence[i].maps {
        var canvas = Canvas(big)
        let map = HeatMap(gridWidth: evidence[i].gridWidth, gridHeight: evidence[i].gridHeight, values: values)
        canvas.overlay(map.normalized().upsampled(width: w, height: h, method: .bilinear), width: w, height: h, x: 0, y: 0, colormap: .inferno, alpha: 0.6)
        row.append(canvas.image)
      }
      rows.append(row)
    }
    return Figure.grid(
      rows, rowLabels: captions, columnLabels: ["image"] + names, title: "where the model looks (validation images)",
      colorBar: ColorBar(colormap: .inferno, minimum: 0, maximum: 1))
  }
}
