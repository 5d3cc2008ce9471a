import Foundation

/// Non-negative rows stored as one byte per value with one Float32 scale per row: the
/// compact form the HTML page embeds.
///
/// Row `r` with maximum `m_r` stores `q = round(255 · v / m_r)`; the page reads
/// `v′ = q · m_r / 255`, so `|v − v′| ≤ m_r / 510`: half a step of `m_r / 255`. Scaling per
/// row rather than per matrix keeps a diffuse row (a query that spreads its attention) as
/// precise as a peaked one. Attention weights, rollout rows and SAGAN rows are all ≥ 0.
struct QuantisedRows: Encodable, Equatable {
  /// Values per row.
  let rowLength: Int
  /// `[rows, rowLength]` row-major.
  private(set) var bytes: [UInt8] = []
  /// `[rows]`, each row's maximum.
  private(set) var scales: [Float] = []

  /// Quantises `values`, `[rows, rowLength]` row-major.
  init(_ values: [Float], rowLength: Int) {
    self.init(rowLength: rowLength)
    append(values)
  }

  /// No rows yet.
  init(rowLength: Int) {
    precondition(rowLength > 0, "rows need at least one value, got \(rowLength)")
    self.rowLength = rowLength
  }

  /// Quantises and appends `values`, whole rows row-major.
  /// - Complexity: O(values.count).
  mutating func append(_ values: ArraySlice<Float>) {
    precondition(values.count % rowLength == 0, "\(values.count) values do not split into rows of \(rowLength)")
    bytes.reserveCapacity(bytes.count + values.count)
    values.withUnsafeBufferPointer { buffer in
      for start in stride(from: 0, to: buffer.count, by: rowLength) {
        let row = UnsafeBufferPointer(rebasing: buffer[start..<(start + rowLength)])
        let peak = row.reduce(Float(0)) { $1.isFinite ? Swift.max($0, $1) : $0 }
        scales.append(peak)
        let factor = peak > 0 ? 255 / peak : 0
        for v in row {
          // Clamped so a NaN or a negative rounding error stores 0, never traps.
          let q = (v * factor).rounded()
          bytes.append(q >= 0 ? UInt8(Swift.min(q, 255)) : 0)
        }
      }
    }
  }

  mutating func append(_ values: [Float]) { append(values[...]) }

  /// The value the page reads back for row `row`, column `column`.
  func value(row: Int, column: Int) -> Float {
    Float(bytes[row * rowLength + column]) * scales[row] / 255
  }

  private enum CodingKeys: String, CodingKey { case rowLength, bytes, scales }

  /// Both arrays as base64: bytes as they are, scales as little-endian Float32, which the
  /// page views with a `Float32Array`.
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(rowLength, forKey: .rowLength)
    try container.encode(Data(bytes).base64EncodedString(), forKey: .bytes)
    var little = Data(capacity: scales.count * 4)
    for scale in scales { withUnsafeBytes(of: scale.bitPattern.littleEndian) { little.append(contentsOf: $0) } }
    try container.encode(little.base64EncodedString(), forKey: .scales)
  }
}
