import Foundation
import VAImageIO

/// A vertical colour bar with its range written beside it.
public struct ColorBar: Sendable {
  /// The colours from `minimum` (bottom) to `maximum` (top).
  public var colormap: Colormap
  /// The value at the bottom of the bar, written beside it.
  public var minimum: Float
  /// The value at the top of the bar, written beside it.
  public var maximum: Float

  /// A bar for values from `minimum` to `maximum` in `colormap`.
  public init(colormap: Colormap, minimum: Float, maximum: Float) {
    self.colormap = colormap
    self.minimum = minimum
    self.maximum = maximum
  }

  static let barWidth = 12
  static let labelGap = 4

  /// Width of the bar with its labels.
  var width: Int { Self.barWidth + Self.labelGap + max(BitmapFont.width(of: Self.label(maximum)), BitmapFont.width(of: Self.label(minimum))) }

  static func label(_ value: Float) -> String {
    let magnitude = abs(value)
    if magnitude != 0 && (magnitude < 0.01 || magnitude >= 10_000) { return String(format: "%.1e", value) }
    return String(format: magnitude < 1 ? "%.3f" : "%.1f", value)
  }

  /// Draws the bar `height` pixels tall at `(x, y)`: maximum at the top.
  func draw(into canvas: inout Canvas, x: Int, y: Int, height: Int) {
    for row in 0..<height {
      let (r, g, b) = colormap.color(1 - Float(row) / Float(max(height - 1, 1)))
      canvas.fillRect(x: x, y: y + row, width: Self.barWidth, height: 1, RGB(r, g, b))
    }
    canvas.strokeRect(x: x, y: y, width: Self.barWidth, height: height, RGB(120, 120, 120))
    let labelX = x + Self.barWidth + Self.labelGap
    canvas.text(Self.label(maximum), x: labelX, y: y - 3)
    canvas.text(Self.label(minimum), x: labelX, y: y + height - BitmapFont.lineHeight() + 3)
  }
}

/// One picture of a figure, with its caption lines and an optional colour bar.
public struct Panel: Sendable {
  /// The picture, drawn at its own size.
  public var image: Image
  /// Lines of text under the picture, one per element.
  public var caption: [String]
  /// A colour bar to the picture's right, or nil.
  public var colorBar: ColorBar?

  /// A panel of `image` with `caption` below and `colorBar`, if any, beside it.
  public init(image: Image, caption: [String], colorBar: ColorBar? = nil) {
    self.image = image
    self.caption = caption
    self.colorBar = colorBar
  }

  /// Panel width including the colour bar.
  var width: Int { image.width + (colorBar.map { Figure.gap / 2 + $0.width } ?? 0) }
}

/// Lays panels out into one image on a white background.
public enum Figure {
  static let margin = 14
  static let gap = 18
  static let captionGap = 6

  /// Panels side by side, top-aligned, each with its caption underneath (wrapped to the
  /// panel's width) and a title above all of them (wrapped to the panels' width, so a long
  /// model caption over small panels is not cut off).
  /// Panels narrower than `minimumPanelWidth` (a 64-pixel training image) are enlarged by
  /// a whole factor with nearest-neighbour sampling, so every pixel stays visible and sharp.
  public static func sideBySide(_ panels: [Panel], title: String? = nil, minimumPanelWidth: Int = 256) -> Image {
    precondition(!panels.isEmpty, "a figure needs at least one panel")
    let panels = panels.map { panel in
      let factor = minimumPanelWidth / max(panel.image.width, 1)
      guard factor > 1 else { return panel }
      var enlarged = panel
      enlarged.image = panel.image.resized(width: panel.image.width * factor, height: panel.image.height * factor, filter: .nearest)
      return enlarged
    }
    let line = BitmapFont.lineHeight()
    let captions = panels.map { panel in panel.caption.flatMap { wrap($0, width: max(panel.width, 140)) } }
    let columnWidths = zip(panels, captions).map { panel, lines in max(panel.width, lines.map { BitmapFont.width(of: $0) }.max() ?? 0) }
    let width = 2 * margin + columnWidths.reduce(0, +) + gap * (panels.count - 1)
    let titleLines = title.map { wrap($0, width: width - 2 * margin) } ?? []
    let titleHeight = titleLines.isEmpty ? 0 : titleLines.count * line + captionGap
    let imageHeight = panels.map(\.image.height).max()!
    let captionHeight = (captions.map(\.count).max() ?? 0) * line
    let height = 2 * margin + titleHeight + imageHeight + captionGap + captionHeight
    var canvas = Canvas(width: width, height: height)
    for (i, text) in titleLines.enumerated() { canvas.text(text, x: margin, y: margin + i * line) }
    var x = margin
    for ((panel, lines), columnWidth) in zip(zip(panels, captions), columnWidths) {
      let top = margin + titleHeight
      canvas.draw(panel.image, x: x, y: top)
      panel.colorBar?.draw(into: &canvas, x: x + panel.image.width + gap / 2, y: top + 4, height: panel.image.height - 8)
      for (i, text) in lines.enumerated() {
        canvas.text(text, x: x, y: top + imageHeight + captionGap + i * line)
      }
      x += columnWidth + gap
    }
    return canvas.image
  }

  /// Small multiples: `cells[row][column]`, all the same size, with labels for each row
  /// (left) and column (top), and a title above them (wrapped to their width). Cells narrower than `minimumCellWidth` are
  /// enlarged by a whole factor, nearest neighbour (as `sideBySide` does with panels).
  public static func grid(
    _ cells: [[Image]], rowLabels: [String], columnLabels: [String], title: String? = nil, colorBar: ColorBar? = nil,
    minimumCellWidth: Int = 128
  ) -> Image {
    precondition(!cells.isEmpty && !cells[0].isEmpty, "a grid needs at least one cell")
    let factor = minimumCellWidth / max(cells[0][0].width, 1)
    let cells =
      factor > 1
      ? cells.map { $0.map { $0.resized(width: $0.width * factor, height: $0.height * factor, filter: .nearest) } }
      : cells
    let cellWidth = cells[0][0].width, cellHeight = cells[0][0].height
    let spacing = 4
    let line = BitmapFont.lineHeight()
    let labelWidth = (rowLabels.map { BitmapFont.width(of: $0) }.max() ?? 0) + 8
    let columns = cells.map(\.count).max()!
    let barWidth = colorBar.map { gap + $0.width } ?? 0
    let columnLabelWidth = columnLabels.enumerated().map { c, label in labelWidth + c * (cellWidth + spacing) + BitmapFont.width(of: label) }.max() ?? 0
    let contentWidth = max(labelWidth + columns * (cellWidth + spacing) - spacing, columnLabelWidth) + barWidth
    // A title wider than the cells wraps to their width (or to 60 glyphs over a narrow grid)
    // instead of widening the figure into empty space.
    let titleWidth = min(BitmapFont.width(of: title ?? ""), max(contentWidth, 60 * BitmapFont.cellWidth))
    let titleLines = title.map { wrap($0, width: titleWidth) } ?? []
    let titleHeight = titleLines.isEmpty ? 0 : titleLines.count * line + captionGap
    let width = 2 * margin + max(contentWidth, titleWidth)
    let height = 2 * margin + titleHeight + line + cells.count * (cellHeight + spacing) - spacing
    var canvas = Canvas(width: width, height: height)
    for (i, text) in titleLines.enumerated() { canvas.text(text, x: margin, y: margin + i * line) }
    let top = margin + titleHeight + line
    for (c, label) in columnLabels.enumerated() {
      canvas.text(label, x: margin + labelWidth + c * (cellWidth + spacing), y: top - line)
    }
    for (r, row) in cells.enumerated() {
      let y = top + r * (cellHeight + spacing)
      if r < rowLabels.count { canvas.text(rowLabels[r], x: margin, y: y + (cellHeight - line) / 2) }
      for (c, cell) in row.enumerated() {
        canvas.draw(cell, x: margin + labelWidth + c * (cellWidth + spacing), y: y)
      }
    }
    colorBar?.draw(into: &canvas, x: width - margin - colorBar!.width, y: top + 4, height: cells.count * (cellHeight + spacing) - spacing - 8)
    return canvas.image
  }

  /// Splits `text` into lines no wider than `width` pixels, at spaces where possible. The
  /// lines are the transliterated text (`BitmapFont.renderable`), so that counting
  /// characters counts glyphs.
  static func wrap(_ text: String, width: Int) -> [String] {
    let perLine = max(width / BitmapFont.cellWidth, 8)
    var lines: [String] = []
    var current = ""
    for word in BitmapFont.renderable(text).split(separator: " ", omittingEmptySubsequences: false) {
      let candidate = current.isEmpty ? String(word) : current + " " + word
      if candidate.count <= perLine {
        current = candidate
      } else {
        if !current.isEmpty { lines.append(current) }
        var rest = String(word)
        while rest.count > perLine {
          lines.append(String(rest.prefix(perLine)))
          rest = String(rest.dropFirst(perLine))
        }
        current = rest
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }
}
