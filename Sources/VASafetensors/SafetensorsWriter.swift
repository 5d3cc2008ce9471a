/// Builds a safetensors file: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian data.
///
/// Tensors keep their insertion order. The header is padded with spaces so the data
/// section starts at a multiple of 8 bytes, as the reference implementation does.
/// Format: https://github.com/huggingface/safetensors (README, "Format").
public struct SafetensorsWriter: Sendable {
  private var entries: [(name: String, shape: [Int], bytes: [UInt8])] = []
  /// String pairs written as the header's `__metadata__` (omitted when empty).
  public var metadata: [String: String] = [:]

  /// An empty file: no tensors, no metadata.
  public init() {}

  /// Adds a Float32 tensor; `values.count` must equal the product of `shape`.
  public mutating func add(_ name: String, shape: [Int], values: [Float]) {
    precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
    precondition(!entries.contains { $0.name == name }, "\(name) added twice")
    var bytes = [UInt8]()
    bytes.reserveCapacity(values.count * 4)
    for value in values {
      let bits = value.bitPattern.littleEndian
      bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
    }
    entries.append((name, shape, bytes))
  }

  /// The whole file.
  public func serialized() -> [UInt8] {
    var fields: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0]!))" }
      fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    for entry in entries {
      let shape = entry.shape.map(String.init).joined(separator: ",")
      fields.append("\(Self.quoted(entry.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
      offset += entry.bytes.count
    }
    var header = Array("{\(fields.joined(separator: ","))}".utf8)
    while (8 + header.count) % 8 != 0 { header.append(0x20) }
    var out = [UInt8]()
    out.reserveCapacity(8 + header.count + offset)
    let length = UInt64(header.count)
    for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(length >> UInt64(shift) & 0xFF)) }
    out += header
    for entry in entries { out += entry.bytes }
    return out
  }

  /// A JSON string literal.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
