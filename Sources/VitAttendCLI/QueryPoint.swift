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
