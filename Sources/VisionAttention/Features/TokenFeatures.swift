import Foundation

/// A run's tokens, kept when a map reads them (`--map pca`, `--map norms`): the model's final
/// tokens and every block's output.
public struct TokenFeatures: Sendable {
  /// Channels per token, `D`.
  public let dimension: Int
  /// Tokens per image, `T` (prefix tokens first, then the patches row-major).
  public let tokens: Int
  /// The final tokens `[T, D]` as the checkpoint's library returns them (after the final norm
  /// when the model has one: timm's `forward_features`, transformers' `last_hidden_state`).
  public let final: [Float]
  /// Per block, its output tokens `[T, D]` before any final norm.
  public let blocks: [[Float]]

  /// Tokens of `dimension` channels; every array holds `tokens · dimension` values.
  public init(dimension: Int, tokens: Int, final: [Float], blocks: [[Float]]) {
    precondition(final.count == tokens * dimension, "TokenFeatures: \(final.count) final values for \(tokens)x\(dimension)")
    precondition(blocks.allSatisfy { $0.count == tokens * dimension }, "TokenFeatures: a block's output is not \(tokens)x\(dimension)")
    self.dimension = dimension
    self.tokens = tokens
    self.final = final
    self.blocks = blocks
  }

  /// The tokens `--layer` names: block `layer`'s output, the final tokens for nil.
  public func tokens(layer: Int?) -> [Float] { layer.map { blocks[$0] } ?? final }

  /// The L2 norm of every token after each block, `[L][T]` (in double, rounded to float).
  public var norms: [[Float]] {
    let d = dimension
    return blocks.map { block in
      (0..<tokens).map { t in
        var s = 0.0
        for j in 0..<d { s += Double(block[t * d + j]) * Double(block[t * d + j]) }
        return Float(s.squareRoot())
      }
    }
  }

  /// Per layer, the tokens whose norm exceeds `factor` × the layer's median norm over all its
  /// tokens (numpy's `median`: the mean of the two middle values for an even count): the
  /// high-norm "attention sink" tokens registers absorb (Darcet et al. 2024).
  public static func highNormTokens(_ norms: [[Float]], factor: Double) -> [[Int]] {
    norms.map { layer in
      let median = Self.median(layer.map(Double.init))
      return layer.indices.filter { Double(layer[$0]) > factor * median }
    }
  }

  /// numpy's `median`.
  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let m = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
  }
}

/// The PCA `--map pca` draws for one image, with what it was fitted on.
public struct PatchPCAResult: Sendable {
  /// The whitened projections of every patch, `[3, N]` (channel-major, patches row-major);
  /// 0 for a background patch.
  public let projections: [Double]
  /// Whether each patch is foreground (coloured), `[N]`.
  public let foreground: [Bool]
  /// The threshold on the first component (`--foreground`), nil for none.
  public let threshold: Double?
  /// The fit the colours come from (refitted on the foreground, given by `--pca-from`, or the
  /// folder's shared fit).
  public let fit: PatchPCA

  /// Fits and projects the patch rows of `tokens` (`[T, D]`, the first `prefix` rows are not
  /// patches). Without a `given` fit: a fit on every patch; with a `foreground` threshold, the
  /// patches whose first component falls below it are background and the PCA is refitted on
  /// the rest (DINOv2's two-step recipe). With a `given` fit: its projections, background
  /// by the same threshold on its first component, no refit.
  /// - Throws: `VisionAttentionError.tooFewForPCA`, `.pcaDimensionMismatch` for a given fit
  ///   of another dimension (`source` names its file).
  public init(
    tokens: [Float], prefix: Int, dimension d: Int, foreground: PCAForeground, given: PatchPCA? = nil, source: String = "(given fit)"
  ) throws(VisionAttentionError) {
    let t = tokens.count / max(d, 1)
    let patches = Array(prefix..<t)
    let first: PatchPCA
    if let given {
      guard given.dimension == d else { throw .pcaDimensionMismatch(path: source, fit: given.dimension, tokens: d) }
      first = given
    } else {
      var statistics = PCAStatistics(dimension: d)
      statistics.add(tokens, rows: patches)
      first = try statistics.fit()
    }
    let projected = first.project(tokens, rows: patches)
    let pc1 = projected.map { $0[0] }
    let cut: Double? =
      switch foreground {
      case .all: nil
      case .otsu: otsuThreshold(pc1)
      case .threshold(let value): value
      }
    threshold = cut
    let kept = pc1.map { value in cut.map { value >= $0 } ?? true }
    self.foreground = kept
    var fit = first
    var rows = projected
    if cut != nil, given == nil {
      let chosen = patches.indices.filter { kept[$0] }
      guard chosen.count >= 4 else { throw .tooFewForPCA(what: "foreground patches", count: chosen.count, needed: 4) }
      var statistics = PCAStatistics(dimension: d)
      statistics.add(tokens, rows: chosen.map { patches[$0] })
      fit = try statistics.fit()
      rows = fit.project(tokens, rows: patches)
    }
    self.fit = fit
    let n = patches.count
    var out = [Double](repeating: 0, count: 3 * n)
    for i in 0..<n where kept[i] {
      for k in 0..<3 { out[k * n + i] = rows[i][k] }
    }
    projections = out
  }

  /// The colour of each patch, `sigmoid(2 · projection)` per channel (DINOv3's notebook),
  /// black for the background: `[3, N]`.
  public var colours: [Float] {
    let n = foreground.count
    return projections.indices.map { i in foreground[i % n] ? Float(1 / (1 + Foundation.exp(-2 * projections[i]))) : 0 }
  }
}
