import Foundation

/// A safetensors file read with Foundation's JSON parser, independently of the project's own
/// reader, so the dump is checked against the format rather than against our code.
struct DumpFile {
  var shapes: [String: [Int]] = [:]
  /// "F32", or "I64" for token indices (read into `tensors` as Float, exact below 2²⁴).
  var dtypes: [String: String] = [:]
  var tensors: [String: [Float]] = [:]
  var metadata: [String: String] = [:]

  init(path: String) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
    let data = 8 + length
    for (name, value) in header {
      if name == "__metadata__" {
        metadata = value as! [String: String]
        continue
      }
      let entry = value as! [String: Any]
      let dtype = entry["dtype"] as! String
      precondition(dtype == "F32" || dtype == "I64", "\(name): dtype \(dtype)")
      let offsets = entry["data_offsets"] as! [Int]
      shapes[name] = entry["shape"] as? [Int]
      dtypes[name] = dtype
      tensors[name] = bytes[(data + offsets[0])..<(data + offsets[1])].withUnsafeBytes { raw in
        dtype == "I64"
          ? (0..<(raw.count / 8)).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
          : (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
      }
    }
  }
}
