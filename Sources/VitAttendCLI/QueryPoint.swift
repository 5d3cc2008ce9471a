import ArgumentParser
import Foundation

/// A point in the input file's own pixels, written `X,Y` on the command line.
struct QueryPoint: Equatable, ExpressibleByArgument, CustomStringConvertible {
  var x: Int
  var y: Int

  init(x: Int, y: Int) {
    self.x = x
    self.y = y
  }

  init?(argument: String) {
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
      .map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let x = parts[0], let y = parts[1], x >= 0, y >= 0 else { return nil }
    self.init(x: x, y: y)
  }

  var description: String { "\(x),\(y)" }
}

extension QueryPoint {
  /// The one place a query is checked against the image: the pixel it names in a
  /// `width × height` input file. Any new query form (fractions, negative values) resolves
  /// here, so NaN, infinite, negative or huge values end in one error line, never a trap.
  /// - Throws: `VitAttendError.queryOutsideImage` when the point is not inside the image.
  func pixel(width: Int, height: Int) throws(VitAttendError) -> (x: Int, y: Int) {
    guard x >= 0, y >= 0, x < width, y < height else {
      throw .queryOutsideImage(query: description, width: width, height: height)
    }
    return (x, y)
  }
}
