import Foundation

/// A `--html` page's embedded payload (`<script type="application/json" id="payload">`),
/// decoded here from the wire format the page's script reads, independently of the
/// library's encoder: 8-bit rows are base64 bytes, their scales base64 little-endian Float32.
/// Only the fields the value tests compare are read.
struct PagePayload: Decodable {
  /// Non-negative rows at one byte per value, one scale (the row's maximum) per row.
  struct Rows: Decodable {
    var rowLength: Int
    var bytes: [UInt8]
    var scales: [Float]
    var rowCount: Int { scales.count }

    /// What the page reads for row `row`, column `column`: `byte · scale / 255`.
    func value(row: Int, column: Int) -> Float { Float(bytes[row * rowLength + column]) * scales[row] / 255 }

    private enum Keys: String, CodingKey { case rowLength, bytes, scales }
    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: Keys.self)
      rowLength = try c.decode(Int.self, forKey: .rowLength)
      let base64 = { (key: Keys) throws -> Data in
        guard let data = Data(base64Encoded: try c.decode(String.self, forKey: key)) else {
          throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not base64")
        }
        return data
      }
      bytes = [UInt8](try base64(.bytes))
      let little = try base64(.scales)
      guard little.count % 4 == 0, bytes.count == little.count / 4 * rowLength else {
        throw DecodingError.dataCorruptedError(forKey: .scales, in: c, debugDescription: "\(bytes.count) bytes, \(little.count) scale bytes, rows of \(rowLength)")
      }
      scales = little.withUnsafeBytes { raw in
        (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
      }
    }
  }

  struct Image: Decodable {
    var width: Int
    var height: Int
  }

  /// One view of the page's menu.
  struct Map: Decodable {
    var name: String
    var label: String
  }

  var image: Image
  var patchSize: Int
  var gridWidth: Int
  var gridHeight: Int
  var prefixTokens: Int
  var layers: Int
  var heads: Int
  var tokens: Int
  /// `[layers, heads, T]` rows of `T`, when the page holds every matrix.
  var attention: Rows?
  /// `[pool heads]` rows of `N` patches, with an attention-pooling head.
  var pool: Rows?
  var maps: [Map]

  /// The payload of the page at `path`.
  init(page path: String) throws {
    let html = try String(contentsOfFile: path, encoding: .utf8)
    guard let start = html.range(of: "<script type=\"application/json\" id=\"payload\">")?.upperBound,
      let end = html.range(of: "</script>", range: start..<html.endIndex)?.lowerBound
    else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path]) }
    self = try JSONDecoder().decode(Self.self, from: Data(html[start..<end].utf8))
  }
}
