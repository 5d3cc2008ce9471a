/// How a patch-grid heat map is upsampled to pixels.
public enum Upsampling: String, CaseIterable, Sendable {
  /// Each patch a flat block: shows exactly what the model computed.
  case nearest
  /// Linear between patch centres (align_corners = false, edges clamped).
  case bilinear
  /// Cubic convolution between patch centres, a = −0.75 as torch's bicubic (edges clamped;
  /// overshoot clipped to the grid's range).
  case bicubic
}

/// Values on a `gridWidth × gridHeight` grid, row-major. Grids are never assumed square.
public struct HeatMap: Sendable, Equatable {
  /// Cells per row.
  public let gridWidth: Int
  /// Rows of cells.
  public let gridHeight: Int
  /// The cells, `[gridHeight · gridWidth]` row-major.
  public var values: [Float]

  /// A map of `values` on a `gridWidth × gridHeight` grid.
  /// - Precondition: `values.count == gridWidth * gridHeight`.
  public init(gridWidth: Int, gridHeight: Int, values: [Float]) {
    precondition(values.count == gridWidth * gridHeight, "\(values.count) values for a \(gridWidth)x\(gridHeight) grid")
    self.gridWidth = gridWidth
    self.gridHeight = gridHeight
    self.values = values
  }

  /// The finite minimum and maximum (0, 0 when none is finite).
  public var range: (min: Float, max: Float) {
    let finite = values.filter(\.isFinite)
    return (finite.min() ?? 0, finite.max() ?? 0)
  }

  /// Values mapped to 0…1 by `(v − min) / (max − min)` over `range` (the map's own range by
  /// default); a flat map becomes all zeros.
  public func normalized(to range: (min: Float, max: Float)? = nil) -> HeatMap {
    let (low, high) = range ?? self.range
    let span = high - low
    return HeatMap(gridWidth: gridWidth, gridHeight: gridHeight, values: values.map { span > 0 ? ($0 - low) / span : 0 })
  }

  /// The map resampled to `width × height` pixels, row-major.
  public func upsampled(width: Int, height: Int, method: Upsampling) -> [Float] {
    let sx = Double(gridWidth) / Double(width), sy = Double(gridHeight) / Double(height)
    let (low, high) = range
    func at(_ x: Int, _ y: Int) -> Float {
      values[min(max(y, 0), gridHeight - 1) * gridWidth + min(max(x, 0), gridWidth - 1)]
    }
    var out = [Float](repeating: 0, count: width * height)
    for py in 0..<height {
      let fy = (Double(py) + 0.5) * sy - 0.5
      for px in 0..<width {
        let fx = (Double(px) + 0.5) * sx - 0.5
        let value: Float
        switch method {
        case .nearest:
          value = at(Int((Double(px) + 0.5) * sx), Int((Double(py) + 0.5) * sy))
        case .bilinear:
          let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
          let tx = Float(fx - Double(x0)), ty = Float(fy - Double(y0))
          let top = at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx
          let bottom = at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx
          value = top * (1 - ty) + bottom * ty
        case .bicubic:
          let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
          let wx = Self.cubicWeights(Float(fx - Double(x0))), wy = Self.cubicWeights(Float(fy - Double(y0)))
          var sum: Float = 0
          for j in 0..<4 {
            var row: Float = 0
            for i in 0..<4 { row += wx[i] * at(x0 - 1 + i, y0 - 1 + j) }
            sum += wy[j] * row
          }
          value = min(max(sum, low), high)
        }
        out[py * width + px] = value
      }
    }
    return out
  }

  /// Keys cubic convolution weights for taps at −1, 0, 1, 2 from offset `t` in 0…1.
  private static func cubicWeights(_ t: Float) -> [Float] {
    let a: Float = -0.75
    func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]
  }
}
