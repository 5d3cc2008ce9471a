import Foundation

/// A point in the input image, written `X,Y` on the command line: each coordinate either in
/// the input file's own pixels or as a fraction of its width or height.
///
/// The rule, per coordinate: a number written with a decimal point (`0.4`, `1.0`, `.5`) is a
/// fraction of the width (X) or height (Y) and must lie in [0, 1]; one without (`170`, `-5`)
/// counts pixels from the left or top edge. A fraction f picks pixel ⌊f · size⌋, the last
/// pixel for f = 1. So `--query 0.5,0.5` is the centre, `--query 170,113` a pixel, and
/// `--query 0.25,40` a quarter of the way across, 40 pixels down. Negative or too-large pixel
/// values parse here and are refused against the image (`resolved`) with its size.
public struct QueryPoint: Equatable, Sendable, CustomStringConvertible {
  /// One coordinate of a query: pixels from the left or top edge, or a fraction of the side.
  public enum Coordinate: Equatable, Sendable, CustomStringConvertible {
    /// Pixels from the left (X) or top (Y) edge, written without a decimal point; may lie outside
    /// the image until `resolved`.
    case pixel(Int)
    /// A fraction in [0, 1] of the width (X) or height (Y), written with a decimal point.
    case fraction(Double)

    /// The coordinate as written back: `170` or `0.4`.
    public var description: String {
      switch self {
      case .pixel(let p): String(p)
      case .fraction(let f): String(f)
      }
    }

    /// The pixel this coordinate names along an axis `size` pixels long.
    public func pixel(size: Int) -> Int {
      switch self {
      case .pixel(let p): p
      case .fraction(let f): min(Int((f * Double(size)).rounded(.down)), size - 1)
      }
    }
  }

  /// The horizontal coordinate.
  public var x: Coordinate
  /// The vertical coordinate.
  public var y: Coordinate

  /// A point in the input file's pixels.
  public init(x: Int, y: Int) {
    self.x = .pixel(x)
    self.y = .pixel(y)
  }

  /// A point from two coordinates, each in pixels or as a fraction.
  public init(x: Coordinate, y: Coordinate) {
    self.x = x
    self.y = y
  }

  /// Why an `X,Y` text is not a query point.
  public struct ParseError: Error, CustomStringConvertible {
    /// The `X,Y` text as given.
    public var text: String
    /// What is wrong with it ("X = abc is not a number").
    public var reason: String
    // ArgumentParser names the option and the text before this.
    /// The reason and how to write a query, for ArgumentParser's message.
    public var description: String { "\(reason); write X,Y in pixels (170,113) or as fractions of the width and height (0.4,0.3)" }
  }

  /// Parses `X,Y` by the rule above: the one place `--query` text is read.
  public static func parse(_ argument: String) throws(ParseError) -> QueryPoint {
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2 else { throw ParseError(text: argument, reason: "it needs two numbers separated by a comma") }
    func coordinate(_ text: String, axis: String) throws(ParseError) -> Coordinate {
      if text.isEmpty { throw ParseError(text: argument, reason: "\(axis) is missing") }
      if text.contains(".") {
        // Only plain decimals: no exponents, signs inside, "nan" or "inf".
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }), let f = Double(text), f.isFinite else {
          throw ParseError(text: argument, reason: "\(axis) = \(text) is not a number")
        }
        guard (0...1).contains(f) else {
          throw ParseError(text: argument, reason: "\(axis) = \(text) has a decimal point, so it is a fraction of the \(axis == "X" ? "width" : "height"), which must lie between 0 and 1")
        }
        return .fraction(f)
      }
      guard let p = Int(text) else {
        let digits = text.drop { $0 == "-" || $0 == "+" }
        let huge = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        throw ParseError(text: argument, reason: huge ? "\(axis) = \(text) is far outside any image" : "\(axis) = \(text) is not a number")
      }
      return .pixel(p)
    }
    return QueryPoint(x: try coordinate(parts[0], axis: "X"), y: try coordinate(parts[1], axis: "Y"))
  }

  /// The pixel named in a `width × height` image.
  /// - Throws: `VisionAttentionError.queryOutsideImage` for a pixel outside it.
  public func resolved(width: Int, height: Int) throws(VisionAttentionError) -> (x: Int, y: Int) {
    let p = (x: x.pixel(size: width), y: y.pixel(size: height))
    guard (0..<width).contains(p.x), (0..<height).contains(p.y) else {
      throw .queryOutsideImage(x: p.x, y: p.y, width: width, height: height)
    }
    return p
  }

  /// Parses `X,Y` by the rule above; nil when `parse` would throw.
  public init?(parsing argument: String) {
    guard let point = try? Self.parse(argument) else { return nil }
    self = point
  }

  /// The point as `X,Y`, the form `parse` reads.
  public var description: String { "\(x),\(y)" }
}
