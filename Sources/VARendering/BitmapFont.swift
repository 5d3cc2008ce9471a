/// A small embedded bitmap font, so figures need no font library: DejaVu Sans Mono Bold
/// rasterised at 12 px into 7 × 14 cells with 16 coverage levels (BitmapFontGlyphs.swift).
public enum BitmapFont {
  /// Width in pixels of `text` drawn at integer `scale`.
  public static func width(of text: String, scale: Int = 1) -> Int { text.count * cellWidth * scale }

  /// Height in pixels of one line at `scale`.
  public static func lineHeight(scale: Int = 1) -> Int { cellHeight * scale }

  /// Coverage 0…1 of pixel `(x, y)` of the glyph for `character` (non-ASCII shows as "?").
  static func coverage(_ character: Character, x: Int, y: Int) -> Float {
    var code = Int(character.asciiValue ?? 63)
    if code < 32 || code > 126 { code = 63 }
    let glyph = glyphs[code - 32].utf8
    let index = glyph.index(glyph.startIndex, offsetBy: y * cellWidth + x)
    let digit = glyph[index]
    let value = digit >= 97 ? Int(digit) - 87 : Int(digit) - 48
    return Float(value) / 15
  }
}

extension Canvas {
  /// Draws `text` with its top-left corner at `(x, y)`, antialiased by glyph coverage.
  public mutating func text(_ text: String, x: Int, y: Int, _ color: RGB = .text, scale: Int = 1) {
    for (i, character) in text.enumerated() where character != " " {
      let left = x + i * BitmapFont.cellWidth * scale
      for gy in 0..<BitmapFont.cellHeight {
        for gx in 0..<BitmapFont.cellWidth {
          let coverage = BitmapFont.coverage(character, x: gx, y: gy)
          guard coverage > 0 else { continue }
          fillRect(x: left + gx * scale, y: y + gy * scale, width: scale, height: scale, color, opacity: coverage)
        }
      }
    }
  }
}
