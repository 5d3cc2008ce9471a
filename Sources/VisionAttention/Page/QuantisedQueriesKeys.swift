import Foundation
import VAInspection

/// Every layer's queries and keys at 8 bits, from which the page recomputes any attention
/// row: what a page embeds above `--full-attention-limit` instead of `[heads, T, T]` weights.
///
/// Per layer, token and head, the d values `x` of a query (or key) are stored as
/// `q = round(127 · x / s)` in a signed byte with `s = max |x|` as one Float32, so each is
/// within `s / 254`. The page computes `softmax_j(s_q s_k[j] / 127² · Σ q·k[j] / √d)`.
/// Size: `2·T·C` bytes plus `2·T·H` scales per layer (base64 adds a third), against `H·T²`.
struct QuantisedQueriesKeys: Encodable {
  var headDimension: Int
  var layers: [Layer]

  /// One layer: `q` and `k` are `[T, C]` signed bytes (head-major channels), `qScales` and
  /// `kScales` `[T, H]` little-endian Float32, all base64.
  struct Layer: Encodable {
    var q: String
    var k: String
    var qScales: String
    var kScales: String
  }

  /// - Precondition: the record kept its queries and keys.
  init(_ record: AttentionRecord) {
    precondition(!record.queriesKeys.isEmpty, "the record kept no queries and keys")
    let t = record.tokens, h = record.heads, d = record.headDimension, c = h * d
    headDimension = d
    layers = record.queriesKeys.map { values in
      // values: [T, 2C], queries then keys.
      func quantise(offset: Int) -> (bytes: Data, scales: Data) {
        var bytes = [UInt8](repeating: 0, count: t * c)
        var scales = Data(capacity: t * h * 4)
        for token in 0..<t {
          for head in 0..<h {
            let start = token * 2 * c + offset + head * d
            var peak: Float = 0
            for e in 0..<d where values[start + e].isFinite { peak = Swift.max(peak, abs(values[start + e])) }
            let factor = peak > 0 ? 127 / peak : 0
            for e in 0..<d {
              let q = (values[start + e] * factor).rounded()
              // Clamped so a NaN or an infinity stores 0 or ±127, never traps.
              let clamped = q.isNaN ? 0 : Swift.min(Swift.max(q, -127), 127)
              bytes[token * c + head * d + e] = UInt8(bitPattern: Int8(clamped))
            }
            withUnsafeBytes(of: peak.bitPattern.littleEndian) { scales.append(contentsOf: $0) }
          }
        }
        return (Data(bytes), scales)
      }
      let q = quantise(offset: 0), k = quantise(offset: c)
      return Layer(
        q: q.bytes.base64EncodedString(), k: k.bytes.base64EncodedString(),
        qScales: q.scales.base64EncodedString(), kScales: k.scales.base64EncodedString())
    }
  }
}
