/// A JSON value from a safetensors header. Parsed by hand because Foundation's parsers keep
/// one of two equal keys silently, and a duplicated tensor name must be an error.
enum HeaderJSON: Equatable {
  case object([(key: String, value: HeaderJSON)])
  case array([HeaderJSON])
  case string(String)
  case integer(Int)
  case other  // numbers with fractions, booleans, null: never valid where we look

  static func == (a: HeaderJSON, b: HeaderJSON) -> Bool {
    switch (a, b) {
    case (.array(let x), .array(let y)): x == y
    case (.string(let x), .string(let y)): x == y
    case (.integer(let x), .integer(let y)): x == y
    case (.other, .other): true
    case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: false
    }
  }

  struct ParseError: Error { let reason: String }

  /// Parses UTF-8 JSON; trailing spaces are allowed (the format pads with them).
  static func parse(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> HeaderJSON {
    var parser = Parser(bytes: bytes)
    let value = try parser.value(depth: 0)
    parser.skipSpace()
    guard parser.position == bytes.count else { throw ParseError(reason: "unexpected data after the JSON object at byte \(parser.position)") }
    return value
  }

  private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    mutating func skipSpace() {
      while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(ParseError) {
      skipSpace()
      guard position < bytes.count, bytes[position] == byte else {
        throw ParseError(reason: "expected '\(Character(Unicode.Scalar(byte)))' at byte \(position)")
      }
      position += 1
    }

    mutating func value(depth: Int) throws(ParseError) -> HeaderJSON {
      guard depth < 16 else { throw ParseError(reason: "nested too deeply") }
      skipSpace()
      guard position < bytes.count else { throw ParseError(reason: "unexpected end of header") }
      switch bytes[position] {
      case UInt8(ascii: "{"):
        position += 1
        var members: [(key: String, value: HeaderJSON)] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
          skipSpace()
          let key = try string()
          try expect(UInt8(ascii: ":"))
          members.append((key, try value(depth: depth + 1)))
          skipSpace()
          guard position < bytes.count else { throw ParseError(reason: "unterminated object") }
          if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
          try expect(UInt8(ascii: "}"))
          return .object(members)
        }
      case UInt8(ascii: "["):
        position += 1
        var items: [HeaderJSON] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
          items.append(try value(depth: depth + 1))
          skipSpace()
          guard position < bytes.count else { throw ParseError(reason: "unterminated array") }
          if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
          try expect(UInt8(ascii: "]"))
          return .array(items)
        }
      case UInt8(ascii: "\""):
        return .string(try string())
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return try number()
      default:
        for word in ["true", "false", "null"]
        where bytes.count - position >= word.utf8.count
          && bytes[position..<(position + word.utf8.count)].elementsEqual(word.utf8)
        {
          position += word.utf8.count
          return .other
        }
        throw ParseError(reason: "unexpected character at byte \(position)")
      }
    }

    mutating func number() throws(ParseError) -> HeaderJSON {
      let start = position
      if bytes[position] == UInt8(ascii: "-") { position += 1 }
      while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
      var fractional = false
      while position < bytes.count,
        [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[position])
          || (fractional && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]))
      {
        fractional = true
        position += 1
      }
      let text = String(decoding: bytes[start..<position], as: UTF8.self)
      if fractional { return .other }
      guard let value = Int(text) else { throw ParseError(reason: "number \(text) is out of range") }
      return .integer(value)
    }

    mutating func string() throws(ParseError) -> String {
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw ParseError(reason: "expected a string at byte \(position)") }
      position += 1
      var scalars = String.UnicodeScalarView()
      var raw: [UInt8] = []
      func flush() throws(ParseError) {
        guard !raw.isEmpty else { return }
        guard let text = String(validating: raw, as: UTF8.self) else { throw ParseError(reason: "invalid UTF-8 in a string") }
        scalars.append(contentsOf: text.unicodeScalars)
        raw.removeAll()
      }
      while position < bytes.count {
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""):
          try flush()
          return String(scalars)
        case UInt8(ascii: "\\"):
          try flush()
          guard position < bytes.count else { break }
          let escape = bytes[position]
          position += 1
          switch escape {
          case UInt8(ascii: "n"): scalars.append("\n")
          case UInt8(ascii: "t"): scalars.append("\t")
          case UInt8(ascii: "r"): scalars.append("\r")
          case UInt8(ascii: "b"): scalars.append("\u{08}")
          case UInt8(ascii: "f"): scalars.append("\u{0C}")
          case UInt8(ascii: "u"):
            guard bytes.count - position >= 4, let code = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16),
              let scalar = Unicode.Scalar(code)
            else { throw ParseError(reason: "bad \\u escape at byte \(position)") }
            scalars.append(scalar)
            position += 4
          default: scalars.append(Unicode.Scalar(escape))
          }
        case 0..<0x20:
          throw ParseError(reason: "control character in a string at byte \(position - 1)")
        default:
          raw.append(byte)
        }
      }
      throw ParseError(reason: "unterminated string")
    }
  }
}
