import Foundation
import VATensorCore

/// BEiT's relative position bias (Bao et al. 2022, following Swin): a learned table with one
/// row per 2D offset between patches, `(2Wh − 1)(2Ww − 1)`, plus three rows for
/// class→patch, patch→class and class→class, each row holding one value per head.
///
/// Shapes: `table` is `[(2Wh−1)(2Ww−1) + 3, heads]` for the trained `Wh × Ww` window; `bias`
/// gives the additive `[heads, 1 + N, 1 + N]` for a grid, class token first.
/// Reference: timm's `beit.gen_relative_position_index` and, for other grids,
/// `timm.layers.resize_rel_pos_bias_table` (the path without scipy: geometric spacing of the
/// source offsets, then linear interpolation), which timm applies when a checkpoint is loaded
/// into a model built for another image size.
public struct RelativePositionBias: Sendable {
  /// The learned table, `[(2Wh−1)(2Ww−1) + 3, heads]` (timm's `relative_position_bias_table`).
  public var table: Tensor
  /// Rows `Wh` of the window the table was trained for (the training patch grid).
  public let windowHeight: Int
  /// Columns `Ww` of that window.
  public let windowWidth: Int

  /// A bias from its table; a precondition checks that it has a row per offset of the window plus three.
  public init(table: Tensor, windowHeight: Int, windowWidth: Int) {
    precondition(
      table.rank == 2 && table.shape[0] == (2 * windowHeight - 1) * (2 * windowWidth - 1) + 3,
      "relative position table \(table.shape) does not fit a \(windowHeight)x\(windowWidth) window")
    self.table = table
    self.windowHeight = windowHeight
    self.windowWidth = windowWidth
  }

  /// The number of heads, one column of the table each.
  public var headCount: Int { table.shape[1] }

  /// The additive bias `[heads, 1 + N, 1 + N]` for a `gridWidth × gridHeight` grid.
  public func bias(gridWidth gw: Int, gridHeight gh: Int) -> Tensor {
    let h = headCount
    let rows = gw == windowWidth && gh == windowHeight ? table.scalars : resizedTable(toHeight: gh, width: gw)
    let distances = (2 * gh - 1) * (2 * gw - 1)
    let t = 1 + gw * gh
    var out = [Float](repeating: 0, count: h * t * t)
    for i in 0..<t {
      for j in 0..<t {
        let index: Int
        if i == 0 && j == 0 {
          index = distances + 2
        } else if j == 0 {
          index = distances + 1
        } else if i == 0 {
          index = distances
        } else {
          // gen_relative_position_index: (Δy + Wh − 1)(2Ww − 1) + (Δx + Ww − 1).
          let dy = (i - 1) / gw - (j - 1) / gw, dx = (i - 1) % gw - (j - 1) % gw
          index = (dy + gh - 1) * (2 * gw - 1) + dx + gw - 1
        }
        for head in 0..<h { out[(head * t + i) * t + j] = rows[index * h + head] }
      }
    }
    return Tensor(shape: [h, t, t], scalars: out)
  }

  /// The table resized to a `height × width` window, as `resize_rel_pos_bias_table` does:
  /// `[(2h−1)(2w−1) + 3, heads]`, the three class-token rows kept as they are.
  func resizedTable(toHeight height: Int, width: Int) -> [Float] {
    let h = headCount
    let source = (2 * windowHeight - 1, 2 * windowWidth - 1), target = (2 * height - 1, 2 * width - 1)
    let ys = Self.spacing(source: source.0, target: target.0), xs = Self.spacing(source: source.1, target: target.1)
    let ty = Float(target.0 / 2), tx = Float(target.1 / 2)
    let values = table.scalars
    var out = [Float](repeating: 0, count: (target.0 * target.1 + 3) * h)
    for y in 0..<target.0 {
      let (y0, y1, wy0, wy1) = Self.bracket(-ty + Float(y), in: ys)
      for x in 0..<target.1 {
        let (x0, x1, wx0, wx1) = Self.bracket(-tx + Float(x), in: xs)
        // RegularGridInterpolator: Σ corners value · (opposite distances) / (total spans).
        let norm = (wy0 + wy1) * (wx0 + wx1)
        for head in 0..<h {
          func v(_ r: Int, _ c: Int) -> Float { values[(r * source.1 + c) * h + head] }
          let sum = v(y0, x0) * wy1 * wx1 + v(y0, x1) * wy1 * wx0 + v(y1, x0) * wy0 * wx1 + v(y1, x1) * wy0 * wx0
          out[(y * target.1 + x) * h + head] = sum / norm
        }
      }
    }
    let extra = source.0 * source.1 * h
    for k in 0..<(3 * h) { out[target.0 * target.1 * h + k] = values[extra + k] }
    return out
  }

  /// `_calc(src, dst)`: source offsets spread by a geometric progression whose ratio `q` is
  /// found by bisection so the outermost offset lands near `dst // 2`; float32 as torch holds them.
  static func spacing(source: Int, target: Int) -> [Float] {
    var left = 1.01, right = 1.5, q = 0.0
    while right - left > 1e-6 {
      q = (left + right) / 2
      let progression = (1 - pow(q, Double(source / 2))) / (1 - q)
      if progression > Double(target / 2) { right = q } else { left = q }
    }
    var distances: [Double] = []
    var current = 1.0
    for i in 0..<(source / 2) {
      distances.append(current)
      current += pow(q, Double(i + 1))
    }
    return (distances.reversed().map { -$0 } + [0] + distances).map { Float($0) }
  }

  /// The interpolator's neighbours of `x` in ascending `points` and their distances
  /// (`torch.bucketize`, clamped; both distances 1 when `x` sits on a clamped end).
  static func bracket(_ x: Float, in points: [Float]) -> (left: Int, right: Int, toLeft: Float, toRight: Float) {
    var right = points.firstIndex { $0 >= x } ?? points.count
    right = min(right, points.count - 1)
    let left = max(right - 1, 0)
    var toLeft = max(x - points[left], 0), toRight = max(points[right] - x, 0)
    if toLeft == 0 && toRight == 0 { (toLeft, toRight) = (1, 1) }
    return (left, right, toLeft, toRight)
  }
}
