/// The object classes of ShapeWorld and how each is drawn.
///
/// Every shape lives in a unit disc: a point `(u, v)` in the object's own frame (centred,
/// rotated, divided by the object's radius) is inside when `contains(u, v)` says so. Areas
/// are kept within a factor of about two of each other so size alone does not give the
/// class away.
public enum ShapeKind: String, CaseIterable, Sendable, Codable {
  case circle, square, triangle, star, cross, ring

  /// Whether the point `(u, v)` of the unit frame is inside the shape.
  public func contains(_ u: Float, _ v: Float) -> Bool {
    switch self {
    case .circle:
      return u * u + v * v <= 1
    case .ring:
      let r2 = u * u + v * v
      return r2 <= 1 && r2 >= 0.55 * 0.55
    case .square:
      return abs(u) <= 0.8 && abs(v) <= 0.8
    case .cross:
      let arm: Float = 0.32
      return (abs(u) <= arm && abs(v) <= 1) || (abs(v) <= arm && abs(u) <= 1)
    case .triangle:
      return Self.trianglePolygon.contains(u, v)
    case .star:
      return Self.starPolygon.contains(u, v)
    }
  }

  private static let trianglePolygon = Polygon(
    vertices: (0..<3).map { i in
      let angle = Float.pi / 2 + Float(i) * 2 * Float.pi / 3
      return (cosf(angle), sinf(angle))
    })

  /// Five points, inner radius 0.45 of the outer.
  private static let starPolygon = Polygon(
    vertices: (0..<10).map { i in
      let angle = Float.pi / 2 + Float(i) * Float.pi / 5
      let radius: Float = i % 2 == 0 ? 1 : 0.45
      return (radius * cosf(angle), radius * sinf(angle))
    })
}

/// A simple polygon with an even-odd inside test.
struct Polygon: Sendable {
  var vertices: [(x: Float, y: Float)]

  /// Crossing-number test (a horizontal ray to the right), O(vertices).
  func contains(_ x: Float, _ y: Float) -> Bool {
    var inside = false
    var j = vertices.count - 1
    for i in vertices.indices {
      let (xi, yi) = vertices[i], (xj, yj) = vertices[j]
      if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
      j = i
    }
    return inside
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
