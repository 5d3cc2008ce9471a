import Foundation
import VAImageIO

/// The maps of `vit-attend`, recomputed in the test from dumped tensors with nothing of the
/// library's map code: plain loops in Double over `[heads, T, T]` attention as `--dump`
/// writes it. A figure is then compared with the recomputation, and the dumped attention with
/// the family's reference (timm / transformers), so a map that reads the wrong head, layer,
/// token or fusion, or a figure that draws something else, fails.
enum MapOracle {
  /// How the heads are combined: `--head h` or `--fuse mean|max|min`.
  enum Heads: Equatable {
    case head(Int)
    case mean, max, min
  }

  /// One layer's attention `[heads, T, T]` as dumped.
  struct Layer {
    var values: [Float]
    var heads: Int
    var tokens: Int

    /// Head `h`'s row of query token `q`, `[T]`.
    func row(_ q: Int, head h: Int) -> [Double] {
      let start = (h * tokens + q) * tokens
      return values[start..<(start + tokens)].map(Double.init)
    }

    /// Row `q` with the heads combined, `[T]`.
    func row(_ q: Int, _ selection: Heads) -> [Double] {
      let rows = (0..<heads).map { row(q, head: $0) }
      switch selection {
      case .head(let h): return rows[h]
      case .mean: return (0..<tokens).map { j in rows.reduce(0) { $0 + $1[j] } / Double(heads) }
      case .max: return (0..<tokens).map { j in rows.map { $0[j] }.max()! }
      case .min: return (0..<tokens).map { j in rows.map { $0[j] }.min()! }
      }
    }
  }

  /// Every `attn.{l}` of a dump, in layer order.
  static func layers(_ dump: DumpFile) -> [Layer] {
    (0...).lazy.map { "attn.\($0)" }.prefix { dump.tensors[$0] != nil }.map { name in
      let shape = dump.shapes[name]!
      return Layer(values: dump.tensors[name]!, heads: shape[0], tokens: shape[1])
    }
  }

  /// Row `q` of the rollout `Ã_L ⋯ Ã_1`, `Ã_l = 0.5 · mean_h(A_l) + 0.5 · I` (rows of
  /// attention sum to 1, so this is `rownormalise(A + I)`): `e_q` carried from the last layer
  /// down, `[T]`.
  static func rolloutRow(_ layers: [Layer], query q: Int) -> [Double] {
    let t = layers[0].tokens
    var row = [Double](repeating: 0, count: t)
    row[q] = 1
    for layer in layers.reversed() {
      var next = [Double](repeating: 0, count: t)
      for k in 0..<t where row[k] != 0 {
        let a = layer.row(k, .mean)
        for j in 0..<t { next[j] += row[k] * (0.5 * a[j] + (j == k ? 0.5 : 0)) }
      }
      row = next
    }
    return row
  }

  /// The whole rollout `[T, T]`, one row at a time.
  static func rollout(_ layers: [Layer]) -> [Double] {
    (0..<layers[0].tokens).flatMap { rolloutRow(layers, query: $0) }
  }

  /// Mean attention distance `[layers, heads]`: per query patch the attention-weighted
  /// distance in pixels between patch centres over the patch keys, averaged over the patches.
  static func meanDistances(_ layers: [Layer], gridWidth gw: Int, gridHeight gh: Int, patchSize p: Int) -> [Double] {
    let n = gw * gh
    var out: [Double] = []
    for layer in layers {
      let prefix = layer.tokens - n
      for h in 0..<layer.heads {
        var total = 0.0
        for q in 0..<n {
          let row = layer.row(prefix + q, head: h)
          for k in 0..<n {
            let dx = Double(q % gw - k % gw), dy = Double(q / gw - k / gw)
            total += row[prefix + k] * (dx * dx + dy * dy).squareRoot() * Double(p)
          }
        }
        out.append(total / Double(n))
      }
    }
    return out
  }

  /// `(v − min) / (max − min)`, as every overlay scales its map.
  static func normalised(_ map: [Double]) -> [Double] {
    let (low, high) = (map.min()!, map.max()!)
    return map.map { high > low ? ($0 - low) / (high - low) : 0 }
  }

  /// `readout · matrix` over the patch columns, for a `[T, T]` matrix: the map a readout
  /// (class token e₀, DeiT's (e₀ + e₁)/2, a pooling head's weights) takes of it.
  static func readoutMap(_ matrix: [Float], readout: [Double], patches n: Int) -> [Double] {
    let t = readout.count, prefix = t - n
    return (0..<n).map { j in (0..<t).reduce(0.0) { $0 + readout[$1] * Double(matrix[$1 * t + prefix + j]) } }
  }
}

/// Reading a figure back.
enum FigureReader {
  /// The gray level (0…1) at the centre of each of `gw × gh` blocks of `block` pixels whose
  /// top-left corner is at `origin`: a map drawn with `--colormap gray --alpha 1 --upsample
  /// nearest` reads back as its normalised values within about 2/255 (matplotlib's gray table).
  static func blocks(_ image: Image, gridWidth gw: Int, gridHeight gh: Int, block: (width: Int, height: Int), origin: (x: Int, y: Int) = (0, 0)) -> [Double] {
    (0..<(gw * gh)).map { i in
      let x = origin.x + i % gw * block.width + block.width / 2, y = origin.y + i / gw * block.height + block.height / 2
      return Double(image.pixels[(y * image.width + x) * 3]) / 255
    }
  }

  /// Largest difference between two maps.
  static func worst(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "\(a.count) against \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  /// Where in `image` a picture sits whose block centres (blocks of `block` pixels on a
  /// `gw × gh` grid) have the RGB values `expected(i)`, each channel within `tolerance`;
  /// blocks that `skip` names are not compared. Exhaustive search, first match; nil if none.
  static func locate(
    in image: Image, gridWidth gw: Int, gridHeight gh: Int, block: (width: Int, height: Int), tolerance: Int = 3,
    skip: (Int) -> Bool = { _ in false }, expected: (Int) -> [Int]
  ) -> (x: Int, y: Int)? {
    let (w, h) = (gw * block.width, gh * block.height)
    guard image.width >= w, image.height >= h else { return nil }
    let cells = (0..<(gw * gh)).filter { !skip($0) }
    let wanted = cells.map(expected)
    for y in 0...(image.height - h) {
      for x in 0...(image.width - w) {
        let fits = cells.indices.allSatisfy { c in
          let i = cells[c]
          let px = x + i % gw * block.width + block.width / 2, py = y + i / gw * block.height + block.height / 2
          let p = (py * image.width + px) * 3
          return (0..<3).allSatisfy { abs(Int(image.pixels[p + $0]) - wanted[c][$0]) <= tolerance }
        }
        if fits { return (x, y) }
      }
    }
    return nil
  }
}
