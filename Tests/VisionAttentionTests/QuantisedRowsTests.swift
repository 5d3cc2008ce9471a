import Foundation
import Testing
@testable import VisionAttention

/// The page's 8-bit storage: the error bound the browser tests rely on, and the wire format
/// the script decodes.
struct QuantisedRowsTests {
  /// Every value comes back within half a step, `rowMax / 510`, for rows of any spread.
  @Test(arguments: [1, 7, 197]) func valuesComeBackWithinHalfAStep(rowLength: Int) {
    // Rows from flat to peaked: softmax of fixed pseudo-random logits scaled by 0 … 8.
    var values: [Float] = []
    for sharpness in [0, 0.5, 2, 8] as [Float] {
      let logits = (0..<rowLength).map { sharpness * sin(Float($0) * 12.9898 + 78.233) }
      let peak = logits.max()!
      let exps = logits.map { exp($0 - peak) }
      let sum = exps.reduce(0, +)
      values += exps.map { $0 / sum }
    }
    let q = QuantisedRows(values, rowLength: rowLength)
    #expect(q.scales.count == 4 && q.bytes.count == values.count)
    for row in 0..<4 {
      let bound = q.scales[row] / 510 * (1 + 1e-5)
      for column in 0..<rowLength {
        let v = values[row * rowLength + column]
        #expect(abs(q.value(row: row, column: column) - v) <= bound)
      }
    }
  }

  /// Zero rows, NaN and negative rounding noise store 0 instead of trapping.
  @Test func degenerateRowsStoreZeros() {
    let q = QuantisedRows([0, 0, 0, .nan, -1e-9, 2], rowLength: 3)
    #expect(q.scales == [0, 2] && q.bytes == [0, 0, 0, 0, 0, 255])
  }

  /// Bytes and little-endian Float32 scales as base64, as inspector.js reads them.
  @Test func encodesAsBase64() throws {
    let q = QuantisedRows([0.5, 1, 0.25, 0.125], rowLength: 2)
    let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(q)) as! [String: Any]
    #expect(json["rowLength"] as? Int == 2)
    #expect(Data(base64Encoded: json["bytes"] as! String).map([UInt8].init) == [128, 255, 255, 128])
    let scales = Data(base64Encoded: json["scales"] as! String)!
    #expect([UInt8](scales) == [0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3E])  // 1.0 and 0.25, little-endian
  }
}
