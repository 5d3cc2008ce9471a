import Foundation

/// Shift-tolerant appearance descriptors of every patch of an image, computed over a Gaussian
/// window around the patch centre, so two similar structures (two eyes) that sit at different
/// offsets inside their patches still get similar descriptors.
///
/// Features per patch (`featureCount` = 16), each standardised over the image's patches:
/// - texture (10): a 9-bin histogram of unsigned gradient orientation weighted by gradient
///   magnitude and linearly interpolated between bins (as in HOG, Dalal & Triggs 2005),
///   L2-normalised, plus the log of the windowed gradient energy;
/// - colour (6): windowed mean and standard deviation of the opponent channels
///   `L = (R+G+B)/3`, `O1 = (R−G)/2`, `O2 = (R+G−2B)/4`.
struct PatchDescriptors {
  static let orientationBins = 9
  static let textureFeatures = orientationBins + 1
  static let colourFeatures = 6
  static var featureCount: Int { textureFeatures + colourFeatures }

  let gridWidth: Int
  let gridHeight: Int
  /// `[gridHeight·gridWidth, featureCount]` row-major, standardised per feature.
  let features: [Float]

  /// - Parameters:
  ///   - rgb: planar `[3, height, width]` values in 0…1.
  ///   - patchSize: patch side in pixels; the grid is `width / patchSize × height / patchSize`.
  ///   - windowSigma: standard deviation of the Gaussian window, in pixels.
  init(rgb: [Float], width: Int, height: Int, patchSize: Int, windowSigma: Double) {
    precondition(rgb.count == 3 * width * height, "rgb has \(rgb.count) values, expected 3x\(height)x\(width)")
    gridWidth = width / patchSize
    gridHeight = height / patchSize
    precondition(gridWidth > 0 && gridHeight > 0, "image \(width)x\(height) is smaller than one \(patchSize)-pixel patch")
    let plane = width * height
    let xs = (0..<gridWidth).map { $0 * patchSize + patchSize / 2 }
    let ys = (0..<gridHeight).map { $0 * patchSize + patchSize / 2 }
    let window = GaussianWindow(sigma: windowSigma)
    func sample(_ p: [Float]) -> [Float] { window.sample(p, width: width, height: height, xs: xs, ys: ys) }

    var luminance = [Float](repeating: 0, count: plane)
    var opponent1 = luminance, opponent2 = luminance
    for i in 0..<plane {
      let r = rgb[i], g = rgb[plane + i], b = rgb[2 * plane + i]
      luminance[i] = (r + g + b) / 3
      opponent1[i] = (r - g) / 2
      opponent2[i] = (r + g - 2 * b) / 4
    }
    let histogram = Self.orientationPlanes(luminance, width: width, height: height).map(sample)
    let colourMeans = [luminance, opponent1, opponent2].map(sample)
    let colourSquares = [luminance, opponent1, opponent2].map { sample($0.map { $0 * $0 }) }

    let count = gridWidth * gridHeight
    let f = Self.featureCount
    var features = [Float](repeating: 0, count: count * f)
    for n in 0..<count {
      let bins = histogram.map { $0[n] }
      let energy = sqrt(bins.reduce(0) { $0 + $1 * $1 })
      for b in 0..<Self.orientationBins { features[n * f + b] = bins[b] / (energy + 1e-6) }
      features[n * f + Self.orientationBins] = log(energy + 1e-3)
      for c in 0..<3 {
        let mean = colourMeans[c][n]
        features[n * f + Self.textureFeatures + c] = mean
        features[n * f + Self.textureFeatures + 3 + c] = sqrt(max(colourSquares[c][n] - mean * mean, 0))
      }
    }
    Self.standardise(&features, rows: count, columns: f)
    self.features = features
  }

  /// Magnitude-weighted orientation planes, `orientationBins` planes of `[height, width]`.
  /// Gradients are central differences inside the image and one-sided at its border
  /// (`numpy.gradient`); orientation is unsigned (0…π) so a dark-on-light edge matches a
  /// light-on-dark one.
  private static func orientationPlanes(_ l: [Float], width: Int, height: Int) -> [[Float]] {
    var planes = [[Float]](repeating: [Float](repeating: 0, count: width * height), count: orientationBins)
    func derivative(_ at: (Int) -> Float, _ i: Int, _ n: Int) -> Float {
      if n == 1 { return 0 }
      if i == 0 { return at(1) - at(0) }
      if i == n - 1 { return at(n - 1) - at(n - 2) }
      return (at(i + 1) - at(i - 1)) / 2
    }
    for y in 0..<height {
      for x in 0..<width {
        let gx = derivative({ l[y * width + $0] }, x, width)
        let gy = derivative({ l[$0 * width + x] }, y, height)
        let magnitude = (gx * gx + gy * gy).squareRoot()
        var angle = atan2(gy, gx)
        if angle < 0 { angle += .pi }
        let position = angle / .pi * Float(orientationBins)
        let lower = Int(position.rounded(.down))
        let fraction = position - Float(lower)
        planes[lower % orientationBins][y * width + x] += magnitude * (1 - fraction)
        planes[(lower + 1) % orientationBins][y * width + x] += magnitude * fraction
      }
    }
    return planes
  }

  /// Z-scores every column over the rows, so no feature dominates by its units.
  private static func standardise(_ values: inout [Float], rows: Int, columns: Int) {
    for c in 0..<columns {
      var mean: Double = 0
      for r in 0..<rows { mean += Double(values[r * columns + c]) }
      mean /= Double(rows)
      var variance: Double = 0
      for r in 0..<rows { variance += pow(Double(values[r * columns + c]) - mean, 2) }
      let std = (variance / Double(rows)).squareRoot()
      for r in 0..<rows { values[r * columns + c] = Float((Double(values[r * columns + c]) - mean) / (std + 1e-6)) }
    }
  }
}
