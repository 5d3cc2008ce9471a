/// Colour maps for heat maps, identical to matplotlib's 256-entry tables.
public enum Colormap: String, CaseIterable, Sendable {
  /// matplotlib's `viridis`, `inferno`, `magma`, `plasma` (perceptually uniform), `turbo`, `jet`
  /// (rainbow) and `gray`, 256 entries each.
  case viridis, inferno, magma, plasma, turbo, jet, gray

  /// Decoded tables: 256 RGB triples per map.
  private static let decoded: [Colormap: [UInt8]] = tables.mapValues { hex in
    var bytes: [UInt8] = []
    bytes.reserveCapacity(768)
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      bytes.append(UInt8(hex[index..<next], radix: 16)!)
      index = next
    }
    return bytes
  }

  /// The colour of `value` in 0…1 (clamped; NaN maps to 0), as matplotlib picks it:
  /// entry `⌊value · 256⌋`, the last entry for 1.
  public func color(_ value: Float) -> (r: UInt8, g: UInt8, b: UInt8) {
    let table = Self.decoded[self]!
    let clamped = value.isNaN ? 0 : min(max(value, 0), 1)
    let entry = min(Int(clamped * 256), 255)
    return (table[entry * 3], table[entry * 3 + 1], table[entry * 3 + 2])
  }
}
