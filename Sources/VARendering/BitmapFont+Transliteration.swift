import Foundation

/// Characters the font has no glyph for, written with the ones it has: names in captions
/// (files, classes, checkpoint folders) keep their letters instead of turning into "?".
extension BitmapFont {
  /// `text` as the font draws it: Latin-1 kept, accents outside Latin-1 dropped ("ő" → "o"),
  /// typographic punctuation and symbols written in ASCII ("–" → "-", "≤" → "<="), Greek
  /// and Cyrillic letters spelled out ("α" → "alpha", "ж" → "zh"), full-width forms
  /// narrowed; whatever is left (CJK, emoji) becomes "?".
  public static func renderable(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    out.append(contentsOf: transliteratedScalars(text))
    return String(out)
  }

  /// The scalars of `renderable(text)`, each one with a glyph.
  static func transliteratedScalars(_ text: String) -> [Unicode.Scalar] {
    var out: [Unicode.Scalar] = []
    for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
      let v = scalar.value
      if (32...126).contains(v) || (160...255).contains(v) && v != 173 { out.append(scalar); continue }
      if v == 173 { continue }  // soft hyphen: invisible unless a line breaks there
      if v == 9 || v == 10 || v == 13 { out.append(" "); continue }
      if let spelled = substitutes[v] { out.append(contentsOf: spelled.unicodeScalars); continue }
      if (0xFF01...0xFF5E).contains(v), let narrow = Unicode.Scalar(v - 0xFEE0) { out.append(narrow); continue }
      switch scalar.properties.generalCategory {
      case .nonspacingMark, .enclosingMark, .format: continue  // combining accents, zero-width joiners
      case .spaceSeparator: out.append(" "); continue
      default: break
      }
      // A letter with an accent outside Latin-1: its base letter ("ś" → "s").
      let base = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.first!
      if base != scalar, (32...126).contains(base.value) || (160...255).contains(base.value) {
        out.append(base)
      } else if let lower = substitutes[scalar.properties.lowercaseMapping.unicodeScalars.first!.value], scalar.properties.isUppercase {
        // Greek and Cyrillic capitals: the lower-case spelling, capitalised ("Δ" → "Delta").
        out.append(contentsOf: (lower.prefix(1).uppercased() + lower.dropFirst()).unicodeScalars)
      } else {
        out.append("?")
      }
    }
    return out
  }

  /// Spellings for characters outside Latin-1 (lower-case letters; capitals derive from them).
  static let substitutes: [UInt32: String] = {
    var table: [UInt32: String] = [
      0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "-", 0x2015: "-", 0x2212: "-",
      0x2018: "'", 0x2019: "'", 0x201A: "'", 0x201B: "'", 0x2032: "'", 0x2039: "<", 0x203A: ">",
      0x201C: "\"", 0x201D: "\"", 0x201E: "\"", 0x201F: "\"", 0x2033: "\"",
      0x2026: "...", 0x2022: "\u{B7}", 0x2219: "\u{B7}", 0x22C5: "\u{B7}", 0x2027: "\u{B7}",
      0x2190: "<-", 0x2192: "->", 0x2191: "^", 0x2193: "v", 0x2194: "<->", 0x21D2: "=>",
      0x2264: "<=", 0x2265: ">=", 0x2260: "!=", 0x2248: "~", 0x223C: "~", 0x221E: "inf",
      0x221A: "sqrt", 0x2211: "sum", 0x220F: "prod", 0x2202: "d", 0x2207: "grad", 0x2208: " in ",
      0x2044: "/", 0x2215: "/", 0x2217: "*", 0x20AC: "EUR", 0x2122: "TM", 0x2030: "o/oo",
      0x0131: "i", 0x0142: "l", 0x0111: "d", 0x0127: "h", 0x014B: "ng", 0x0153: "oe", 0x0167: "t",
      0x017F: "s", 0x0180: "b", 0x01E5: "g", 0x0138: "q", 0x0149: "'n", 0x2113: "l",
      0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl",
      0x03BC: "\u{B5}",
    ]
    let greek = [
      "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
      "nu", "xi", "omicron", "pi", "rho", "sigma", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    ]
    for (i, name) in greek.enumerated() where i != 11 { table[0x03B1 + UInt32(i)] = name }  // 0x03C2 is final sigma
    let cyrillic = [
      "a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
      "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
    ]
    for (i, name) in cyrillic.enumerated() { table[0x0430 + UInt32(i)] = name }
    table[0x0451] = "yo"; table[0x0454] = "ye"; table[0x0456] = "i"; table[0x0457] = "yi"; table[0x0491] = "g"
    return table
  }()
}
