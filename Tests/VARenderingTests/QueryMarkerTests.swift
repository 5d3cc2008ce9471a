import Testing
@testable import VARendering

/// The query marker's size and the pixels it may cover.
struct QueryMarkerTests {
  /// Three eighths of the patch, 3 to 8 pixels, at most a twentieth of the picture.
  @Test(arguments: [(16, 480, 6), (32, 256, 8), (8, 128, 3), (16, 100, 5), (64, 1000, 8), (4, 64, 3)])
  func radiusFollowsThePatchAndThePicture(_ patch: Int, _ side: Int, _ expected: Int) {
    #expect(QueryMarker.radius(patch: patch, shorterSide: side) == expected)
  }

  /// The ring stays inside its own 16-pixel patch: the neighbours are not covered.
  @Test func ringStaysInsideAPatch() {
    let m = QueryMarker(x: 8, y: 8, patch: 16, shorterSide: 480)
    #expect(m.inkedRadii.upperBound <= 8)
  }

  @Test(arguments: [RGB(128, 128, 128), RGB.white, RGB.black])
  func ringInksOnlyItsAnnulusWithAContrastingOutline(_ background: RGB) {
    var canvas = Canvas(width: 40, height: 40, background: background)
    let m = QueryMarker(x: 20, y: 20, radius: 6)
    canvas.marker(m, RGB(0, 114, 178))
    var coloured = 0, white = 0
    for y in 0..<40 {
      for x in 0..<40 {
        let d = Double((x - 20) * (x - 20) + (y - 20) * (y - 20)).squareRoot()
        let p = canvas.pixel(x: x, y: y)
        if !m.inkedRadii.contains(d) { #expect(p == background, "(\(x),\(y)) at \(d) px was inked") }
        if p == RGB(0, 114, 178) { coloured += 1 }
        if p == .white && d > 3 { white += 1 }
      }
    }
    // The centre (what the marker marks) stays visible; the ring has both colours.
    #expect(canvas.pixel(x: 20, y: 20) == background)
    #expect(coloured > 40 && (background == .white || white > 40))
  }

  /// A 14-pixel receptive field under a 6-pixel marker: the ring grows to pass outside the
  /// box, so every pixel of the field stays visible; a 212-pixel field is left alone.
  @Test func aSmallReceptiveFieldIsRingedNotCovered() {
    let m = QueryMarker(x: 100, y: 100, radius: 6)
    let grown = m.enclosing(boxX: 93, boxY: 94, width: 14, height: 14)
    #expect(grown.radius > m.radius)
    var canvas = Canvas(width: 200, height: 200, background: .black)
    canvas.marker(grown, RGB(0, 114, 178))
    for y in 94..<108 {
      for x in 93..<107 { #expect(canvas.pixel(x: x, y: y) == .black, "field pixel (\(x),\(y)) covered") }
    }
    #expect(m.enclosing(boxX: -6, boxY: -6, width: 212, height: 212) == m)
  }
}
