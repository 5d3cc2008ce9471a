import Foundation
import VAImageIO

/// A small 2D chart: axes with ticks, points and lines, for figures such as mean attention
/// distance per layer.
public struct Plot: Sendable {
  /// A set of points drawn in one colour, as dots and optionally joined by lines.
  public struct Series: Sendable {
    public var points: [(x: Double, y: Double)]
    public var color: RGB
    public var connected: Bool
    public var label: String?

    public init(points: [(x: Double, y: Double)], color: RGB, connected: Bool = false, label: String? = nil) {
      self.points = points
      self.color = color
      self.connected = connected
      self.label = label
    }
  }

  public var series: [Series]
  public var xLabel: String
  public var yLabel: String
  /// Axis ranges; the y range starts at 0.
  public var xRange: ClosedRange<Double>
  public var yMaximum: Double

  public init(series: [Series], xLabel: String, yLabel: String, xRange: ClosedRange<Double>, yMaximum: Double) {
    self.series = series
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.xRange = xRange
    self.yMaximum = yMaximum > 0 ? yMaximum : 1
  }

  /// Draws the chart into a `width × height` image.
  public func render(width: Int, height: Int) -> Image {
    var canvas = Canvas(width: width, height: height)
    let line = BitmapFont.lineHeight()
    let left = 8 + BitmapFont.width(of: Self.tick(yMaximum)) + 6, right = width - 12
    let top = line + 8, bottom = height - 2 * line - 8
    func px(_ x: Double) -> Int { left + Int((x - xRange.lowerBound) / max(xRange.upperBound - xRange.lowerBound, 1e-9) * Double(right - left)) }
    func py(_ y: Double) -> Int { bottom - Int(y / yMaximum * Double(bottom - top)) }
    let axis = RGB(90, 90, 90), grid = RGB(225, 225, 225)
    for i in 0...4 {
      let value = yMaximum * Double(i) / 4
      canvas.fillRect(x: left, y: py(value), width: right - left, height: 1, i == 0 ? axis : grid)
      let label = Self.tick(value)
      canvas.text(label, x: left - 6 - BitmapFont.width(of: label), y: py(value) - line / 2)
    }
    canvas.fillRect(x: left, y: top, width: 1, height: bottom - top, axis)
    let xTicks = Int(xRange.upperBound - xRange.lowerBound) <= 24 ? Array(Int(xRange.lowerBound.rounded(.up))...Int(xRange.upperBound)) : stride(from: Int(xRange.lowerBound), through: Int(xRange.upperBound), by: max(1, Int((xRange.upperBound - xRange.lowerBound) / 12))).map { $0 }
    for tick in xTicks {
      canvas.fillRect(x: px(Double(tick)), y: bottom, width: 1, height: 4, axis)
      let label = String(tick)
      canvas.text(label, x: px(Double(tick)) - BitmapFont.width(of: label) / 2, y: bottom + 5)
    }
    canvas.text(xLabel, x: (left + right - BitmapFont.width(of: xLabel)) / 2, y: bottom + line + 6)
    canvas.text(yLabel, x: 4, y: 2)
    for s in series {
      if s.connected {
        for (a, b) in zip(s.points, s.points.dropFirst()) {
          canvas.line(from: (px(a.x), py(a.y)), to: (px(b.x), py(b.y)), s.color, thickness: 2)
        }
      }
      for p in s.points { canvas.circle(cx: px(p.x), cy: py(p.y), radius: 3, s.color, filled: true) }
    }
    // Legend, top right.
    var y = top
    for s in series {
      guard let label = s.label else { continue }
      let x = right - BitmapFont.width(of: label) - 14
      canvas.circle(cx: x, cy: y + line / 2, radius: 3, s.color, filled: true)
      canvas.text(label, x: x + 8, y: y)
      y += line
    }
    return canvas.image
  }

  static func tick(_ value: Double) -> String {
    value >= 100 || value == value.rounded() ? String(Int(value.rounded())) : String(format: "%.1f", value)
  }
}
