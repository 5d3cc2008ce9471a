import Foundation

/// A point in the input file's own pixels, written `X,Y` on the command line.
public struct QueryPoint: Equatable, Sendable, CustomStringConvertible {
  public var x: Int
  public var y: Int

  public init(x: Int, y: Int) {
    self.x = x
    self.y = y
  }

  /// Parses `X,Y`; nil when the text is not two non-negative integers.
  public init?(parsing argument: String) {
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
      .map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let x = parts[0], let y = parts[1], x >= 0, y >= 0 else { return nil }
    self.init(x: x, y: y)
  }

  public var description: String { "\(x),\(y)" }
}
