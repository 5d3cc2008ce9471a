import Foundation
import VAImageIO

/// A small 2D chart laid out as matplotlib lays out its defaults: ticks chosen by
/// `Ticks.maxN` (multiples of 1, 2, 2.5 or 5 × 10^k) with matplotlib's labels, room made for
/// every label before the axes are placed, each axis titled once (the y title turned on its
/// side), and the legend in the corner or side where it covers the fewest data points,
/// outside the axes when every place inside would cover some.
public struct Plot: Sendable {
  /// A set of points drawn in one colour, as dots and optionally joined by lines.
  public struct Series: Sendable {
    /// The data points, in drawing order (the order lines join them).
    public var points: [(x: Double, y: Double)]
    /// Colour of the dots and lines.
    public var color: RGB
    /// Whether consecutive points are joined by lines (a curve) or not (a scatter).
    public var connected: Bool
    /// The series' name in the legend; nil leaves it out of the legend.
    public var label: String?

    /// A series of `points` in `color`, a scatter unless `connected`.
    public init(points: [(x: Double, y: Double)], color: RGB, connected: Bool = false, label: String? = nil) {
      self.points = points
      self.color = color
      self.connected = connected
      self.label = label
    }

    /// Dots are drawn on scatter series and on lines with few points; a line of hundreds of
    /// points (a loss curve) would turn into a thick band.
    var dotted: Bool { !connected || points.count <= 40 }
  }

  /// The data, drawn in order (later series on top).
  public var series: [Series]
  /// Title of the x axis, under it.
  public var xLabel: String
  /// Title of the y axis, turned on its side to its left.
  public var yLabel: String
  /// A line above the axes, or nil.
  public var title: String?
  /// Axis ranges; nil takes the data's range with matplotlib's 5% margins.
  public var xRange: ClosedRange<Double>?
  /// The y axis's range; nil takes the data's range with matplotlib's 5% margins.
  public var yRange: ClosedRange<Double>?
  /// Whole-number x ticks (layers, epochs), as `MaxNLocator(integer=True)`.
  public var integerX: Bool

  /// A chart of `series` with axis titles; ranges from the data unless given.
  public init(
    series: [Series], xLabel: String, yLabel: String, title: String? = nil, xRange: ClosedRange<Double>? = nil,
    yRange: ClosedRange<Double>? = nil, integerX: Bool = false
  ) {
    self.series = series
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.title = title
    self.xRange = xRange
    self.yRange = yRange
    self.integerX = integerX
  }

  /// Where everything of a rendered chart goes, in image pixels.
  public struct Layout: Sendable {
    /// A piece of text and the box it is drawn in (`vertical`: turned to read upwards).
    public struct Text: Sendable {
      /// The characters drawn.
      public var text: String
      /// The box it is drawn in, in image pixels: top-left corner and size as drawn (tall and
      /// narrow when `vertical`).
      public var x: Int, y: Int, width: Int, height: Int
      /// Turned a quarter to read upwards (the y axis's title).
      public var vertical = false
    }
    /// The axes' rectangle: data are drawn inside it.
    public var left: Int, top: Int, right: Int, bottom: Int
    /// The data ranges the axes span, margins included.
    public var xView: ClosedRange<Double>, yView: ClosedRange<Double>
    /// The values where ticks and their labels sit, on each axis.
    public var xTicks: [Double], yTicks: [Double]
    /// Every label, title and legend entry.
    public var texts: [Text]
    /// The legend's box, and how many data points (and line samples) it covers.
    public var legend: (x: Int, y: Int, width: Int, height: Int, covered: Int, outside: Bool)?

    func px(_ x: Double) -> Double { Double(left) + (x - xView.lowerBound) / (xView.upperBound - xView.lowerBound) * Double(right - left) }
    func py(_ y: Double) -> Double { Double(bottom) - (y - yView.lowerBound) / (yView.upperBound - yView.lowerBound) * Double(bottom - top) }
  }

  static let tickLength = 4, pad = 4, margin = 6

  /// The data's range with matplotlib's 5% margins (a flat range widened by ±0.5 or 5%).
  static func view(_ values: [Double], given: ClosedRange<Double>?) -> ClosedRange<Double> {
    if let given, given.upperBound > given.lowerBound { return given }
    let finite = values.filter(\.isFinite)
    guard let low = finite.min(), let high = finite.max() else { return 0...1 }
    if high == low { let d = low == 0 ? 0.5 : abs(low) * 0.05; return (low - d)...(high + d) }
    let d = (high - low) * 0.05
    return (low - d)...(high + d)
  }

  /// Lays the chart out in a `width × height` image.
  public func layout(width: Int, height: Int) -> Layout {
    let inside = layout(width: width, height: height, legendOutside: false)
    guard let legend = inside.legend, legend.covered > 0 else { return inside }
    let outside = layout(width: width, height: height, legendOutside: true)
    return outside.right - outside.left >= (inside.right - inside.left) / 2 ? outside : inside
  }

  private func layout(width: Int, height: Int, legendOutside: Bool) -> Layout {
    let line = BitmapFont.lineHeight(), glyph = BitmapFont.cellWidth
    let xView = Self.view(series.flatMap { $0.points.map(\.x) }, given: xRange)
    let yView = Self.view(series.flatMap { $0.points.map(\.y) }, given: yRange)
    let top = Self.margin + (title == nil ? 0 : line + Self.pad)
    let bottom = height - Self.margin - line - Self.pad - line - Self.tickLength - 2
    // matplotlib's nbins='auto': at most 9 bins, about two label heights apart on y.
    let yBins = min(9, max(1, (bottom - top) / (2 * line)))
    let yTicks = Ticks.inside(Ticks.maxN(yView.lowerBound, yView.upperBound, bins: yBins), yView.lowerBound, yView.upperBound)
    let yLabels = Ticks.labels(yTicks)
    // The y title turned on its side, wrapped into columns when longer than the image is tall.
    let yTitle = Figure.wrap(yLabel, width: height - 2 * Self.margin)
    let left = Self.margin + yTitle.count * line + Self.pad + (yLabels.map { BitmapFont.width(of: $0) }.max() ?? 0) + Self.pad + Self.tickLength
    let entries = series.compactMap { s in s.label.map { (label: $0, series: s) } }
    let legendWidth = entries.isEmpty ? 0 : 2 * Self.pad + 18 + Self.pad + (entries.map { BitmapFont.width(of: $0.label) }.max() ?? 0) + Self.pad
    let legendHeight = entries.count * line + 2 * Self.pad
    var right = width - Self.margin - (legendOutside ? legendWidth + Self.pad : 0)
    // x ticks: matplotlib's bins (three label heights apart), fewer while labels would touch.
    var xBins = min(9, max(1, (right - left) / (3 * line)))
    var xTicks: [Double] = [], xLabels: [String] = []
    while true {
      xTicks = Ticks.inside(Ticks.maxN(xView.lowerBound, xView.upperBound, bins: xBins, integer: integerX), xView.lowerBound, xView.upperBound)
      // matplotlib relaxes `integer` when fewer than two whole numbers fit (a one-layer
      // model's axis would read -0.4 … 0.4); a count axis keeps the whole numbers it has.
      if integerX, xTicks.contains(where: { $0 != $0.rounded() }) {
        xTicks = Array(stride(from: xView.lowerBound.rounded(.up), through: xView.upperBound, by: 1))
      }
      xLabels = Ticks.labels(xTicks)
      let widest = xLabels.map { BitmapFont.width(of: $0) }.max() ?? 0
      let spacing = xTicks.count > 1 ? Double(right - left) * (xTicks[1] - xTicks[0]) / (xView.upperBound - xView.lowerBound) : .infinity
      if Double(widest + 2 * glyph) <= spacing || xBins == 1 { break }
      xBins -= 1
    }
    // The last x label is centred on its tick: keep it inside the image.
    if let last = xTicks.last, let label = xLabels.last {
      let overhang = Int(Double(left) + (last - xView.lowerBound) / (xView.upperBound - xView.lowerBound) * Double(right - left)) + BitmapFont.width(of: label) / 2 + 2 - (width - Self.margin)
      if overhang > 0 && !legendOutside { right -= overhang }
    }
    var layout = Layout(left: left, top: top, right: right, bottom: bottom, xView: xView, yView: yView, xTicks: xTicks, yTicks: yTicks, texts: [], legend: nil)
    for (tick, label) in zip(yTicks, yLabels) {
      let w = BitmapFont.width(of: label)
      layout.texts.append(.init(text: label, x: left - Self.tickLength - Self.pad - w, y: Int(layout.py(tick).rounded()) - line / 2, width: w, height: line))
    }
    for (tick, label) in zip(xTicks, xLabels) {
      let w = BitmapFont.width(of: label)
      layout.texts.append(.init(text: label, x: Int(layout.px(tick).rounded()) - w / 2, y: bottom + Self.tickLength + 2, width: w, height: line))
    }
    let xTitleWidth = BitmapFont.width(of: xLabel)
    layout.texts.append(.init(text: xLabel, x: (left + right - xTitleWidth) / 2, y: height - Self.margin - line, width: xTitleWidth, height: line))
    for (i, part) in yTitle.enumerated() {
      let length = BitmapFont.width(of: part)
      let y = min(max(Self.margin, (top + bottom - length) / 2), height - Self.margin - length)
      layout.texts.append(.init(text: part, x: Self.margin + i * line, y: y, width: line, height: length, vertical: true))
    }
    if let title {
      let w = BitmapFont.width(of: title)
      layout.texts.append(.init(text: title, x: max(0, (left + right - w) / 2), y: Self.margin, width: w, height: line))
    }
    guard !entries.isEmpty else { return layout }
    // matplotlib's loc='best' candidates, in its order of preference.
    let inset = Self.pad + 2
    let xs = [right - inset - legendWidth, left + inset, (left + right - legendWidth) / 2]
    let ys = [top + inset, bottom - inset - legendHeight, (top + bottom - legendHeight) / 2]
    let candidates: [(Int, Int)] =
      legendOutside
      ? [(right + Self.pad, top)]
      : [(xs[0], ys[0]), (xs[1], ys[0]), (xs[1], ys[1]), (xs[0], ys[1]), (xs[0], ys[2]), (xs[1], ys[2]), (xs[0], ys[2]), (xs[2], ys[1]), (xs[2], ys[0]), (xs[2], ys[2])]
    let samples = dataSamples(layout)
    var best: (x: Int, y: Int, covered: Int)?
    for (x, y) in candidates {
      let covered = samples.filter { $0.x >= Double(x) - 3 && $0.x <= Double(x + legendWidth) + 3 && $0.y >= Double(y) - 3 && $0.y <= Double(y + legendHeight) + 3 }.count
      if best == nil || covered < best!.covered { best = (x, y, covered) }
    }
    let (lx, ly, covered) = best!
    layout.legend = (lx, ly, legendWidth, legendHeight, legendOutside ? 0 : covered, legendOutside)
    for (i, entry) in entries.enumerated() {
      let w = BitmapFont.width(of: entry.label)
      layout.texts.append(.init(text: entry.label, x: lx + 2 * Self.pad + 18, y: ly + Self.pad + i * line, width: w, height: line))
    }
    return layout
  }

  /// Pixel positions of every point and of samples along every line, for legend placement.
  private func dataSamples(_ layout: Layout) -> [(x: Double, y: Double)] {
    var samples: [(x: Double, y: Double)] = []
    for s in series {
      let points = s.points.map { (x: layout.px($0.x), y: layout.py($0.y)) }
      samples += points
      guard s.connected else { continue }
      for (a, b) in zip(points, points.dropFirst()) {
        let n = Int(max(abs(b.x - a.x), abs(b.y - a.y)) / 3)
        for k in stride(from: 1, to: n, by: 1) {
          let t = Double(k) / Double(n)
          samples.append((a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
        }
      }
    }
    return samples
  }

  /// Draws the chart into a `width × height` image.
  public func render(width: Int, height: Int) -> Image {
    let layout = layout(width: width, height: height)
    var canvas = Canvas(width: width, height: height)
    let axis = RGB(60, 60, 60)
    // Data on their own canvas, so lines and dots are clipped at the axes.
    let w = layout.right - layout.left, h = layout.bottom - layout.top
    if w > 2, h > 2 {
      var plot = Canvas(width: w, height: h)
      for s in series {
        let points = s.points.map { (x: Int(layout.px($0.x).rounded()) - layout.left, y: Int(layout.py($0.y).rounded()) - layout.top) }
        if s.connected {
          for (a, b) in zip(points, points.dropFirst()) { plot.line(from: a, to: b, s.color, thickness: 2) }
        }
        if s.dotted { for p in points { plot.circle(cx: p.x, cy: p.y, radius: 3, s.color, filled: true) } }
      }
      canvas.draw(plot.image, x: layout.left, y: layout.top)
    }
    canvas.strokeRect(x: layout.left - 1, y: layout.top - 1, width: w + 2, height: h + 2, axis)
    for tick in layout.yTicks {
      canvas.fillRect(x: layout.left - 1 - Self.tickLength, y: Int(layout.py(tick).rounded()), width: Self.tickLength, height: 1, axis)
    }
    for tick in layout.xTicks {
      canvas.fillRect(x: Int(layout.px(tick).rounded()), y: layout.bottom + 1, width: 1, height: Self.tickLength, axis)
    }
    if let legend = layout.legend {
      canvas.fillRect(x: legend.x, y: legend.y, width: legend.width, height: legend.height, .white)
      canvas.strokeRect(x: legend.x, y: legend.y, width: legend.width, height: legend.height, RGB(200, 200, 200))
      let line = BitmapFont.lineHeight()
      for (i, s) in series.filter({ $0.label != nil }).enumerated() {
        let cy = legend.y + Self.pad + i * line + line / 2 - 1, x = legend.x + 2 * Self.pad
        if s.connected { canvas.fillRect(x: x, y: cy - 1, width: 16, height: 2, s.color) }
        if s.dotted { canvas.circle(cx: x + 8, cy: cy, radius: 3, s.color, filled: true) }
      }
    }
    for text in layout.texts {
      if text.vertical { canvas.verticalText(text.text, x: text.x, y: text.y) } else { canvas.text(text.text, x: text.x, y: text.y) }
    }
    return canvas.image
  }
}
