import VAImageIO
import VAInspection
import VARendering

/// Building blocks of the Swin figures: maps over a block's cells drawn on the model input.
extension SwinScene {
  /// Whole factor by which panels show the model input (as `Scene.displayScale`): a small
  /// input is enlarged pixel for pixel until a panel is at least 256 pixels wide.
  var displayScale: Int { max(1, 256 / max(image.width, 1)) }

  /// The query marker at `scale` display pixels per input pixel, sized to a block-0 cell.
  func queryMarker(scale: Double, shorterSide: Int) -> QueryMarker {
    QueryMarker(
      x: Int((Double(point.x) + 0.5) * scale), y: Int((Double(point.y) + 0.5) * scale),
      patch: Int((Double(swin.model.configuration.patchSize) * scale).rounded()), shorterSide: shorterSide)
  }

  /// The input with the query marked (`marked`) and how it was sized.
  func inputPanel(marked: Bool = true) -> Panel {
    let s = displayScale
    var canvas = Canvas(s == 1 ? image : image.resized(width: image.width * s, height: image.height * s, filter: .nearest))
    if marked { canvas.marker(queryMarker(scale: Double(s), shorterSide: min(canvas.width, canvas.height)), RGB.markers[0]) }
    let resized = geometry.scale == 1 ? "used" : "resized"
    var caption = ["input \(geometry.originalWidth)x\(geometry.originalHeight), \(resized) at \(image.width)x\(image.height)"]
    if marked { caption.append("query (\(query)) = input pixel (\(point.x),\(point.y))") }
    return Panel(image: canvas.image, caption: caption)
  }

  /// `values` over a `gridWidth × gridHeight` map whose cells cover `cell` input pixels a
  /// side, colour-mapped on the input. With `shown` (a window) each cell is one value
  /// (nearest), cells outside are dimmed and left uncoloured and the window is outlined: a
  /// smooth `--upsample` would bleed the window into cells it cannot see. Without it the map
  /// is enlarged as `--upsample` says over the whole (padded) grid, as a ViT's maps are. The
  /// scale runs from 0 to the largest shown value.
  func cellImage(
    _ values: [Float], gridWidth gw: Int, gridHeight gh: Int, cell: Int, shown: [Bool]? = nil, marked: Bool, width: Int? = nil
  ) -> (image: Image, bar: ColorBar) {
    let targetWidth = width ?? image.width * displayScale
    let targetHeight = max(1, image.height * targetWidth / image.width)
    let scale = Double(targetWidth) / Double(image.width)
    var canvas = Canvas(image.resized(width: targetWidth, height: targetHeight, filter: targetWidth % image.width == 0 ? .nearest : .bilinear))
    let peak = zip(values, shown ?? values.map { _ in true }).filter(\.1).map(\.0).max() ?? 0
    let (spanX, spanY) = (Int((Double(gw * cell) * scale).rounded()), Int((Double(gh * cell) * scale).rounded()))
    let smooth = shown == nil && settings.upsample != .nearest && spanX >= gw && spanY >= gh
    let pixels = smooth ? HeatMap(gridWidth: gw, gridHeight: gh, values: values).normalized(to: (0, max(peak, .leastNormalMagnitude))).upsampled(width: spanX, height: spanY, method: settings.upsample) : []
    for y in 0..<targetHeight {
      let row = min(Int(Double(y) / scale) / cell, gh - 1)
      for x in 0..<targetWidth {
        let index = row * gw + min(Int(Double(x) / scale) / cell, gw - 1)
        if let shown, !shown[index] {
          canvas.plot(x: x, y: y, .black, opacity: 0.55)
        } else {
          let v = smooth && y < spanY && x < spanX ? pixels[y * spanX + x] : (peak > 0 ? values[index] / peak : 0)
          let (r, g, b) = settings.colormap.color(v)
          canvas.plot(x: x, y: y, RGB(r, g, b), opacity: settings.alpha)
        }
      }
    }
    if let shown {
      // The grid spans gw · cell input pixels (more than the input where the map was padded).
      canvas.contour(mask: shown, gridWidth: gw, gridHeight: gh, x: 0, y: 0, width: spanX, height: spanY, RGB.markers[2], thickness: 1)
    }
    if marked { canvas.marker(queryMarker(scale: scale, shorterSide: min(targetWidth, targetHeight)), RGB.markers[0]) }
    return (canvas.image, ColorBar(colormap: settings.colormap, minimum: 0, maximum: peak))
  }

  /// How block `l` partitions its map, for captions: "block 1, stage 0: 28x28 cells of 8 px,
  /// 7x7 windows shifted (3,3)".
  func blockCaption(_ l: Int) -> String {
    let g = blocks[l]
    let shift = g.isShifted ? "shifted (\(g.shiftX),\(g.shiftY))" : "not shifted"
    return "block \(l), stage \(g.stage): \(g.width)x\(g.height) cells of \(cellPixels(l)) px, \(g.windowWidth)x\(g.windowHeight) windows \(shift)"
  }

  /// The query's window attention at block `l` as a panel.
  func queryPanel(block l: Int, _ selection: HeadSelection) -> Panel {
    let g = blocks[l]
    let (values, window) = queryMap(block: l, selection)
    let (picture, bar) = cellImage(values, gridWidth: g.width, gridHeight: g.height, cell: cellPixels(l), shown: window, marked: true)
    return Panel(image: picture, caption: [blockCaption(l), "the query's window, \(describe(selection)); outside it nothing"], colorBar: bar)
  }
}
