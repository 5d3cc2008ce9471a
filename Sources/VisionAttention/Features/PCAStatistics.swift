import Foundation

/// What a PCA of token features needs, summed as the tokens stream past in double precision:
/// their count, their sum and the sum of their outer products. One image's patches, a folder's
/// (`--map pca` over a folder fits one PCA so colours agree across images) or a shard's, merged
/// by adding (`merged(with:)`, what `vit-attend --merge` does with `pca-statistics.K-of-N.json`).
public struct PCAStatistics: Codable, Equatable, Sendable {
  /// Channels per token, `D`.
  public let dimension: Int
  /// Tokens added.
  public private(set) var count: Int = 0
  /// `Σ x`, `[D]`.
  public private(set) var sum: [Double]
  /// `Σ x xᵀ`, the upper triangle row by row (`D(D+1)/2` values: the matrix is symmetric).
  public private(set) var outer: [Double]

  /// No tokens yet, of `dimension` channels.
  public init(dimension: Int) {
    self.dimension = dimension
    sum = [Double](repeating: 0, count: dimension)
    outer = [Double](repeating: 0, count: dimension * (dimension + 1) / 2)
  }

  /// Adds the rows `rows` of `tokens`, `[T, D]` row-major (every row when nil).
  /// - Complexity: O(R·D²) for R rows.
  public mutating func add(_ tokens: [Float], rows: [Int]? = nil) {
    let d = dimension
    precondition(tokens.count % max(d, 1) == 0, "PCAStatistics: \(tokens.count) values are not rows of \(d)")
    let chosen = rows ?? Array(0..<(tokens.count / max(d, 1)))
    var x = [Double](repeating: 0, count: d)
    tokens.withUnsafeBufferPointer { t in
      outer.withUnsafeMutableBufferPointer { o in
        for r in chosen {
          for j in 0..<d { x[j] = Double(t[r * d + j]) }
          var at = 0
          for i in 0..<d {
            let xi = x[i]
            sum[i] += xi
            for j in i..<d { o[at + j - i] += xi * x[j] }
            at += d - i
          }
        }
      }
    }
    count += chosen.count
  }

  /// Both sets of tokens' statistics.
  /// - Throws: `VisionAttentionError.pcaDimensionMismatch` for statistics of another dimension.
  public func merged(with other: PCAStatistics) throws(VisionAttentionError) -> PCAStatistics {
    guard other.dimension == dimension else { throw .pcaDimensionMismatch(path: "(shard statistics)", fit: dimension, tokens: other.dimension) }
    var out = self
    out.count += other.count
    for i in sum.indices { out.sum[i] += other.sum[i] }
    for i in outer.indices { out.outer[i] += other.outer[i] }
    return out
  }

  /// The mean `[D]` and the sample covariance `[D, D]` (divided by `count − 1`, as
  /// scikit-learn's `explained_variance_`).
  func meanAndCovariance() -> (mean: [Double], covariance: [Double]) {
    let d = dimension, n = Double(count)
    let mean = sum.map { $0 / n }
    var covariance = [Double](repeating: 0, count: d * d)
    var at = 0
    for i in 0..<d {
      for j in i..<d {
        // Σ (x−m)(x−m)ᵀ = Σ x xᵀ − n m mᵀ
        let c = (outer[at + j - i] - n * mean[i] * mean[j]) / (n - 1)
        covariance[i * d + j] = c
        covariance[j * d + i] = c
      }
      at += d - i
    }
    return (mean, covariance)
  }

  /// The first three principal components of the tokens added.
  /// - Throws: `VisionAttentionError.tooFewForPCA` below 4 tokens or 3 channels.
  public func fit() throws(VisionAttentionError) -> PatchPCA {
    guard dimension >= 3 else { throw .tooFewForPCA(what: "token channels", count: dimension, needed: 3) }
    guard count >= 4 else { throw .tooFewForPCA(what: "patches", count: count, needed: 4) }
    let d = dimension
    let (mean, covariance) = meanAndCovariance()
    let eigen = SymmetricEigen(covariance, n: d)
    var components: [[Double]] = []
    var variances: [Double] = []
    for k in 0..<3 {
      let column = d - 1 - k  // ascending order: the largest last
      var v = Array(eigen.vectors[(column * d)..<((column + 1) * d)])
      // scikit-learn's svd_flip (u_based_decision=False): the largest |entry| positive.
      var largest = 0
      for i in 1..<d where abs(v[i]) > abs(v[largest]) { largest = i }
      if v[largest] < 0 { v = v.map { -$0 } }
      components.append(v)
      variances.append(max(eigen.values[column], 0))
    }
    return PatchPCA(mean: mean, components: components, explainedVariance: variances)
  }
}
