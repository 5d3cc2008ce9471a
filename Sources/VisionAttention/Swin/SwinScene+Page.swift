import Foundation
import VAImageIO

/// `--html` for Swin: one self-contained page where a click on the image moves the query and
/// every block shows the query's window attention at its own resolution, for the mean, max or
/// one head. The weights travel quantised: per row of a window's `[heads, N, N]`, 8 bits of
/// the row's maximum (`row_max`, float32), so a shown weight is within `row_max / 510` of the
/// model's.
extension SwinScene {
  /// The page's bytes: `SwinPage.template` with the title and the payload (`payload()`) in it.
  public func page(input: String) throws -> [UInt8] {
    let json = try JSONSerialization.data(withJSONObject: try payload(input: input), options: [.sortedKeys])
    let title = InspectorPage.escaped("vit-attend: \((input as NSString).lastPathComponent) (Swin)")
    // The payload goes in last, so no marker inside it could be replaced.
    let page = SwinPage.template.replacingOccurrences(of: "{{TITLE}}", with: title)
      .replacingOccurrences(of: "{{PAYLOAD}}", with: String(decoding: json, as: UTF8.self))
    return Array(page.utf8)
  }

  /// The numbers the page draws from. `image`: the model input as a PNG data URL; `query`:
  /// the model-input pixel first shown; per block its geometry, `sources` (int32 per window
  /// slot: the cell it reads, −1 for padding), `weights` (uint8 `[windows, heads, N, N]`,
  /// each row scaled to its maximum) and `row_max` (float32 `[windows · heads · N]`), base64.
  func payload(input: String) throws -> [String: Any] {
    let png = try image.pngData()
    var blockEntries: [[String: Any]] = []
    for (l, g) in blocks.enumerated() {
      let n = g.tokensPerWindow
      let rows = attention[l].count / n
      var quantised = [UInt8](repeating: 0, count: attention[l].count)
      var rowMax = [Float](repeating: 0, count: rows)
      for r in 0..<rows {
        let row = attention[l][(r * n)..<((r + 1) * n)]
        let peak = row.max() ?? 0
        rowMax[r] = peak
        guard peak > 0 else { continue }
        for (j, a) in row.enumerated() { quantised[r * n + j] = UInt8((a / peak * 255).rounded()) }
      }
      let sources = g.sourceCells().map { Int32($0 ?? -1) }
      blockEntries.append([
        "block": l, "stage": g.stage, "height": g.height, "width": g.width, "cell": cellPixels(l),
        "window": [g.windowHeight, g.windowWidth], "shift": [g.shiftY, g.shiftX], "heads": heads(l), "windows": g.windowCount, "n": n,
        "sources": Self.base64(sources), "weights": Data(quantised).base64EncodedString(), "row_max": Self.base64(rowMax),
      ])
    }
    return [
      "input": input, "caption": modelCaption, "image": "data:image/png;base64," + Data(png).base64EncodedString(),
      "width": image.width, "height": image.height, "query": ["x": point.x, "y": point.y], "blocks": blockEntries,
      "colormap": settings.colormap.rawValue,
    ]
  }

  /// Little-endian bytes of `values`, base64 (the page reads them as a typed array).
  static func base64<T>(_ values: [T]) -> String {
    values.withUnsafeBytes { Data($0).base64EncodedString() }
  }
}
