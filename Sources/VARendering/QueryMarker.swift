/// The ring that marks a query point: thin, open in the middle so the pixels it marks stay
/// visible, sized to the patch it sits in.
///
/// Drawn as a coloured ring two pixels wide between two one-pixel white rings, so it reads
/// on dark and light backgrounds alike. It inks only the annulus `radius − 2 … radius + 1`
/// pixels from the centre (`inkedRadii`).
public struct QueryMarker: Equatable, Sendable {
  /// Centre, x in the picture's pixels.
  public var x: Int
  /// Centre, y in the picture's pixels.
  public var y: Int
  /// Radius of the ring's middle, in pixels; the ring inks `radius − 2 … radius + 1`.
  public var radius: Int

  /// A marker of `radius` centred at (`x`, `y`).
  public init(x: Int, y: Int, radius: Int) {
    self.x = x
    self.y = y
    self.radius = radius
  }

  /// A marker for a patch `patch` pixels wide as displayed, in a picture whose shorter side
  /// is `shorterSide` pixels: three eighths of the patch, so the ring stays inside the query's
  /// own patch and its neighbours stay in view, between 3 and 8 pixels, and no more than a
  /// twentieth of the picture (a thumbnail gets a small ring).
  public init(x: Int, y: Int, patch: Int, shorterSide: Int) {
    self.init(x: x, y: y, radius: Self.radius(patch: patch, shorterSide: shorterSide))
  }

  /// The radius for a patch `patch` pixels wide in a picture of shorter side `shorterSide`: `max(3,
  /// min(8, 3·patch/8, shorterSide/20))`.
  public static func radius(patch: Int, shorterSide: Int) -> Int {
    max(3, min(8, patch * 3 / 8, shorterSide / 20))
  }

  /// Distances from the centre the marker may ink (white, colour, colour, white).
  public var inkedRadii: ClosedRange<Double> { Double(radius) - 2.5...Double(radius) + 1.5 }

  /// The marker grown, when needed, so its ring passes outside a `width × height` box at
  /// `(boxX, boxY)` instead of over it: a receptive field smaller than the marker stays
  /// visible inside the ring.
  public func enclosing(boxX: Int, boxY: Int, width: Int, height: Int) -> QueryMarker {
    let corners = [(boxX, boxY), (boxX + width, boxY), (boxX, boxY + height), (boxX + width, boxY + height)]
    let farthest = corners.map { Double(($0.0 - x) * ($0.0 - x) + ($0.1 - y) * ($0.1 - y)).squareRoot() }.max()!
    // Only a box no wider than the ring: a larger box shows around the ring anyway.
    guard Double(max(width, height)) <= 2 * inkedRadii.upperBound else { return self }
    var grown = self
    // The inner white ring, radius − 2.5, clears the farthest corner by half a pixel.
    grown.radius = max(radius, Int((farthest + 3).rounded(.up)))
    return grown
  }
}

extension Canvas {
  /// Draws `marker` in `color` (see `QueryMarker`).
  public mutating func marker(_ marker: QueryMarker, _ color: RGB) {
    let r = Double(marker.radius)
    let reach = marker.radius + 2
    for y in (marker.y - reach)...(marker.y + reach) {
      for x in (marker.x - reach)...(marker.x + reach) {
        let d = Double((x - marker.x) * (x - marker.x) + (y - marker.y) * (y - marker.y)).squareRoot()
        if d >= r - 0.5 && d < r + 0.5 || d >= r - 1.5 && d < r - 0.5 {
          plot(x: x, y: y, color)
        } else if d >= r + 0.5 && d < r + 1.5 || d >= r - 2.5 && d < r - 1.5 {
          plot(x: x, y: y, .white)
        }
      }
    }
  }
}
