import ArgumentParser

/// Three per-channel numbers (R,G,B), written `0.485,0.456,0.406` on the command line.
struct ChannelValues: Equatable, ExpressibleByArgument {
  var values: [Float]

  init?(argument: String) {
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 3, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else { return nil }
    values = parts.map { $0! }
  }
}
