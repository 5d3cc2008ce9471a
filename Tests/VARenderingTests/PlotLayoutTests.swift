import Testing
@testable import VARendering

/// Chart layout: every label inside the image and apart from the others, each axis titled
/// once, ticks as matplotlib's, and the legend where it hides no data when it can.
struct PlotLayoutTests {
  static let accuracy = Plot(
    series: [
      Plot.Series(points: (1...15).map { (Double($0), 0.3 + 0.045 * Double($0)) }, color: .black, connected: true, label: "train"),
      Plot.Series(points: (1...15).map { (Double($0), 0.28 + 0.044 * Double($0)) }, color: .white, connected: true, label: "validation"),
    ],
    xLabel: "epoch", yLabel: "accuracy", integerX: true)
  static let distance = Plot(
    series: [Plot.Series(points: (0..<4).map { (Double($0), 233.3 * Double($0 + 1) / 4) }, color: .black, label: "head 0 appearance")],
    xLabel: "layer", yLabel: "mean attention distance (px)", xRange: -0.5...3.5, yRange: 0...233.3, integerX: true)
  static func lossCurve(_ step: Int) -> (x: Double, y: Double) {
    let t = Double(step)
    return (t / 20, 1.8 / (1 + t / 30) + 0.05)
  }
  static let loss = Plot(
    series: [Plot.Series(points: (0..<300).map(lossCurve), color: .black, connected: true, label: "train loss")],
    xLabel: "epoch", yLabel: "training loss (smoothed)")

  @Test(arguments: [(accuracy, 420, 300), (distance, 420, 300), (loss, 420, 300), (accuracy, 200, 150), (distance, 260, 180)])
  func noLabelIsClippedOrOverlapped(_ plot: Plot, _ width: Int, _ height: Int) {
    let layout = plot.layout(width: width, height: height)
    for t in layout.texts {
      #expect(t.x >= 0 && t.y >= 0 && t.x + t.width <= width && t.y + t.height <= height, "'\(t.text)' at \(t.x),\(t.y) \(t.width)x\(t.height) in \(width)x\(height)")
    }
    for (i, a) in layout.texts.enumerated() {
      for b in layout.texts[(i + 1)...] {
        let apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y
        #expect(apart, "'\(a.text)' overlaps '\(b.text)'")
      }
    }
    // Tick labels stay outside the axes.
    for t in layout.texts where layout.xTicks.count + layout.yTicks.count > 0 && Double(t.text) != nil {
      #expect(t.x + t.width <= layout.left || t.y >= layout.bottom, "tick label '\(t.text)' inside the axes")
    }
  }

  @Test func eachAxisIsTitledOnce() {
    let layout = Self.accuracy.layout(width: 420, height: 300)
    #expect(layout.texts.filter { $0.text == "accuracy" }.count == 1)
    #expect(layout.texts.filter { $0.text == "epoch" }.count == 1)
    #expect(layout.texts.first { $0.text == "accuracy" }?.vertical == true)
    // A y title longer than the chart is tall wraps into columns instead of running off.
    let short = Self.distance.layout(width: 260, height: 180)
    #expect(short.texts.filter(\.vertical).map(\.text).joined(separator: " ") == "mean attention distance (px)")
  }

  /// The mislabelled axes: 0.75 written as 0.75, and hundreds not 50.8, 102, 152.
  @Test func ticksAreRoundAndLabelledAsTheyAre() {
    let distance = Self.distance.layout(width: 420, height: 300)
    #expect(distance.yTicks == [0, 50, 100, 150, 200])
    #expect(distance.xTicks == [0, 1, 2, 3])
    let unit = Plot(series: [Plot.Series(points: [(0, 0), (1, 1)], color: .black)], xLabel: "x", yLabel: "y", yRange: 0...1).layout(width: 420, height: 180)
    let labels = unit.texts.filter { Double($0.text) != nil && $0.x < unit.left }.map(\.text)
    #expect(unit.yTicks == [0, 0.25, 0.5, 0.75, 1])
    #expect(labels == ["0.00", "0.25", "0.50", "0.75", "1.00"])
  }

  @Test func legendCoversNoPointsWhenACornerIsFree() {
    for plot in [Self.accuracy, Self.loss, Self.distance] {
      let layout = plot.layout(width: 420, height: 300)
      #expect(layout.legend?.covered == 0, "\(plot.yLabel): legend covers \(layout.legend?.covered ?? -1) samples")
    }
    // Rising accuracy fills the upper right: the legend moves to the next of matplotlib's
    // places, the upper left.
    let accuracy = Self.accuracy.layout(width: 420, height: 300)
    #expect(accuracy.legend!.x < (accuracy.left + accuracy.right) / 2 && accuracy.legend!.y < (accuracy.top + accuracy.bottom) / 2)
  }

  @Test func legendMovesOutsideWhenEveryPlaceInsideIsTaken() {
    // Points everywhere on a 7x7 lattice: no place inside is free.
    let points = (0..<49).map { (x: Double($0 % 7), y: Double($0 / 7)) }
    let plot = Plot(series: [Plot.Series(points: points, color: .black, label: "lattice of points")], xLabel: "x", yLabel: "y")
    let layout = plot.layout(width: 420, height: 300)
    #expect(layout.legend?.outside == true && layout.legend!.x >= layout.right)
  }
}
