import Foundation

/// A Gaussian window evaluated only where it is needed: at the centres of a patch grid.
///
/// Equivalent to `scipy.ndimage.gaussian_filter(plane, sigma, mode="nearest", truncate=4)`
/// sampled at `(xs[i], ys[j])`, but costs `O(H·|xs|·r + |ys|·|xs|·r)` instead of `O(H·W·r)`
/// because the separable passes skip every column and row that is never sampled.
struct GaussianWindow {
  let sigma: Double
  /// Normalised taps for offsets `-radius...radius`.
  let taps: [Float]
  var radius: Int { taps.count / 2 }

  init(sigma: Double) {
    precondition(sigma > 0, "sigma must be positive, got \(sigma)")
    self.sigma = sigma
    let radius = Int(4 * sigma + 0.5)  // scipy's truncate = 4
    let raw = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let total = raw.reduce(0, +)
    taps = raw.map { Float($0 / total) }
  }

  /// The windowed mean of `plane` (`[height, width]` row-major) at every `(xs[i], ys[j])`,
  /// returned `[ys.count, xs.count]` row-major. Borders repeat the edge pixel.
  func sample(_ plane: [Float], width: Int, height: Int, xs: [Int], ys: [Int]) -> [Float] {
    let r = radius
    // Horizontal pass, only at the sampled columns: [height, xs.count].
    var horizontal = [Float](repeating: 0, count: height * xs.count)
    plane.withUnsafeBufferPointer { src in
      for y in 0..<height {
        let row = y * width
        for (i, cx) in xs.enumerated() {
          var sum: Float = 0
          for k in -r...r {
            sum += taps[k + r] * src[row + min(max(cx + k, 0), width - 1)]
          }
          horizontal[y * xs.count + i] = sum
        }
      }
    }
    // Vertical pass, only at the sampled rows.
    var out = [Float](repeating: 0, count: ys.count * xs.count)
    for (j, cy) in ys.enumerated() {
      for i in 0..<xs.count {
        var sum: Float = 0
        for k in -r...r {
          sum += taps[k + r] * horizontal[min(max(cy + k, 0), height - 1) * xs.count + i]
        }
        out[j * xs.count + i] = sum
      }
    }
    return out
  }
}
