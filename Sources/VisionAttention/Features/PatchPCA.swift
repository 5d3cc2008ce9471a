import Foundation
import VAImageIO
import VASafetensors

/// The first three principal components of token features, whitened, as scikit-learn's
/// `PCA(n_components=3, whiten=True)` fits them (`PCAStatistics.fit()`): the DINO papers'
/// picture of patch features as RGB. Saved as `pca.safetensors` (`mean` `[D]`, `components`
/// `[3, D]`, `explained_variance` `[3]`) so `--pca-from` draws other images in the same colours.
public struct PatchPCA: Equatable, Sendable {
  /// The tokens' mean, `[D]`.
  public let mean: [Double]
  /// Three unit vectors `[D]`, largest variance first, each signed so that its
  /// largest-magnitude entry is positive (scikit-learn's `svd_flip`).
  public let components: [[Double]]
  /// The variance along each component, `S²/(n−1)` (scikit-learn's `explained_variance_`).
  public let explainedVariance: [Double]

  /// A fit from its parts: three components of `mean.count` values each.
  public init(mean: [Double], components: [[Double]], explainedVariance: [Double]) {
    precondition(components.count == 3 && explainedVariance.count == 3, "PatchPCA has 3 components, got \(components.count)")
    precondition(components.allSatisfy { $0.count == mean.count }, "PatchPCA: components must have \(mean.count) values")
    self.mean = mean
    self.components = components
    self.explainedVariance = explainedVariance
  }

  /// Channels per token, `D`.
  public var dimension: Int { mean.count }

  /// The whitened projections `((x − mean) · cₖ) / √varianceₖ` of the rows `rows` of `tokens`
  /// (`[T, D]` row-major), as `[R][3]` (scikit-learn's `transform` with `whiten=True`; a
  /// component of zero variance projects to 0).
  public func project(_ tokens: [Float], rows: [Int]) -> [[Double]] {
    let d = dimension
    let scales = explainedVariance.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
    return rows.map { r in
      (0..<3).map { k in
        var dot = 0.0
        for j in 0..<d { dot += (Double(tokens[r * d + j]) - mean[j]) * components[k][j] }
        return dot * scales[k]
      }
    }
  }

  /// Writes `mean` `[D]`, `components` `[3, D]`, `explained_variance` `[3]` (float32), with
  /// how many tokens the fit saw in the metadata.
  public func write(to path: String, tokens: Int) throws {
    var writer = SafetensorsWriter()
    writer.add("mean", shape: [dimension], values: mean.map(Float.init))
    writer.add("components", shape: [3, dimension], values: components.flatMap { $0.map(Float.init) })
    writer.add("explained_variance", shape: [3], values: explainedVariance.map(Float.init))
    writer.metadata = ["Software": "vit-attend", "tokens": String(tokens), "fit": "PCA(n_components=3, whiten=True), signs as svd_flip"]
    try AtomicFile.write(writer.serialized(), to: path)
  }

  /// Reads a fit `write(to:)` saved.
  /// - Throws: `VisionAttentionError.badPCAFile` naming what is missing or mis-shaped.
  public init(contentsOfFile path: String) throws(VisionAttentionError) {
    let file: SafetensorsFile
    do { file = try SafetensorsFile(path: path) } catch { throw .badPCAFile(path: path, reason: "\(error)") }
    func tensor(_ name: String, _ shape: (Int) -> [Int]) throws(VisionAttentionError) -> [Float] {
      guard let info = file.info(name) else { throw .badPCAFile(path: path, reason: "no tensor \(name)") }
      let d = file.info("mean")?.shape.first ?? 0
      guard info.shape == shape(d) else { throw .badPCAFile(path: path, reason: "\(name) is \(info.shape), expected \(shape(d))") }
      do { return try file.floats(name) } catch { throw .badPCAFile(path: path, reason: "\(error)") }
    }
    let mean = try tensor("mean") { [$0] }
    let components = try tensor("components") { [3, $0] }
    let variance = try tensor("explained_variance") { _ in [3] }
    guard mean.count >= 3 else { throw .badPCAFile(path: path, reason: "mean has \(mean.count) channels") }
    let d = mean.count
    self.init(
      mean: mean.map(Double.init), components: (0..<3).map { k in components[(k * d)..<((k + 1) * d)].map(Double.init) },
      explainedVariance: variance.map(Double.init))
  }
}

/// Which patches `--map pca` colours (`--foreground`): DINOv2's two-step recipe blacks out
/// the patches whose first component falls below a threshold and refits on the rest.
public enum PCAForeground: Sendable, Equatable, CustomStringConvertible {
  /// Every patch (`none`).
  case all
  /// Otsu's threshold on the first component (`auto`).
  case otsu
  /// A fixed threshold on the whitened first component.
  case threshold(Double)

  /// `none`, `auto` or the number, as `--foreground` takes it; nil for anything else.
  public init?(argument: String) {
    switch argument {
    case "none": self = .all
    case "auto": self = .otsu
    default:
      guard let t = Double(argument), t.isFinite else { return nil }
      self = .threshold(t)
    }
  }

  /// As `--foreground` takes it.
  public var description: String {
    switch self {
    case .all: "none"
    case .otsu: "auto"
    case .threshold(let t): String(t)
    }
  }
}

/// Otsu's threshold, as scikit-image's `threshold_otsu(values, nbins=256)` computes it: a
/// histogram of 256 equal bins over the values' range (numpy's `histogram`), the bin centre
/// that maximises the between-class variance.
public func otsuThreshold(_ values: [Double], bins: Int = 256) -> Double {
  guard let low = values.min(), let high = values.max(), low < high else { return values.first ?? 0 }
  // numpy.linspace(low, high, bins + 1), the last edge exactly `high`.
  let step = (high - low) / Double(bins)
  var edges = (0...bins).map { low + Double($0) * step }
  edges[bins] = high
  var counts = [Double](repeating: 0, count: bins)
  let norm = Double(bins) / (high - low)
  for v in values {
    // numpy's `_search_sorted_inclusive`-free path: floor, then corrected against the edges.
    var i = Int((v - low) * norm)
    if i == bins { i -= 1 }
    if v < edges[i] { i -= 1 } else if i != bins - 1, v >= edges[i + 1] { i += 1 }
    counts[i] += 1
  }
  let centres = (0..<bins).map { (edges[$0] + edges[$0 + 1]) / 2 }
  var weight1 = [Double](repeating: 0, count: bins), weight2 = weight1, mean1 = weight1, mean2 = weight1
  var runningCount = 0.0, runningSum = 0.0
  for i in 0..<bins {
    runningCount += counts[i]
    runningSum += counts[i] * centres[i]
    weight1[i] = runningCount
    mean1[i] = runningSum / runningCount
  }
  runningCount = 0
  runningSum = 0
  for i in stride(from: bins - 1, through: 0, by: -1) {
    runningCount += counts[i]
    runningSum += counts[i] * centres[i]
    weight2[i] = runningCount
    mean2[i] = runningSum / runningCount
  }
  var best = 0, bestVariance = -Double.infinity
  for i in 0..<(bins - 1) {
    let between = weight1[i] * weight2[i + 1] * (mean1[i] - mean2[i + 1]) * (mean1[i] - mean2[i + 1])
    // numpy's argmax: the first maximum; NaN (an empty side) never wins.
    if between > bestVariance {
      bestVariance = between
      best = i
    }
  }
  return centres[best]
}
