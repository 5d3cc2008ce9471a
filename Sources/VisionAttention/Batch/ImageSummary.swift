import Foundation
import VAInspection

/// The numbers one image's run leaves behind, beside its files: what `index.jsonl` records and
/// what a data-set summary adds up.
public struct ImageSummary: Sendable {
  /// The classifier's top-1, when the model has one.
  public var prediction: (index: Int, name: String?, probability: Double)?
  /// The map the figure shows, when it is one patch-grid map (the default figure's attention
  /// panel, `query`, `cls`, `rollout`): `[gridHeight · gridWidth]`.
  public var shownMap: [Float]?
  /// Patches per row of the model input (`shownMap`'s width).
  public var gridWidth: Int
  /// Patch rows of the model input (`shownMap`'s height).
  public var gridHeight: Int
  /// Entropy in bits of `shownMap` normalised to sum 1: 0 for one patch, log2(N) for uniform.
  public var entropy: Double?
  /// Centre of `shownMap`'s peak patch in the input file's pixels, and the patch.
  public var peak: (x: Double, y: Double, column: Int, row: Int)?
  /// Mean attention distance in pixels, `[layers, heads]` (with `--map distance`).
  public var distances: [Float]?
  /// Layers of the model (the first factor of `distances`' shape).
  public var layers: Int
  /// Heads per layer (the other factor of `distances`' shape).
  public var heads: Int
  /// Per layer, the indices of the tokens above `--norm-factor` × the layer's median norm
  /// (with `--map norms`; `TokenFeatures.highNormTokens`).
  public var highNormTokens: [[Int]]? = nil
  /// A detector's objects above its score (DETR's `--score`), in query order.
  public var detections: [IndexRecord.Detection]? = nil
}

extension Scene {
  /// The summary numbers of this scene's figure.
  public func summary() throws(VisionAttentionError) -> ImageSummary {
    let record = attention
    var summary = ImageSummary(
      prediction: prediction, gridWidth: record.gridWidth, gridHeight: record.gridHeight,
      layers: record.layers.count, heads: record.heads)
    if let (values, _) = try singleMap() {
      summary.shownMap = values
      summary.entropy = Self.entropyBits(values)
      let top = geometry.peak(of: values)
      summary.peak = (top.x, top.y, top.column, top.row)
    }
    if settings.map == .distance {
      summary.distances = record.meanDistances(patchSize: geometry.patchSize)
    }
    if settings.map == .norms {
      summary.highNormTokens = TokenFeatures.highNormTokens(try tokenFeatures(.norms).norms, factor: settings.normFactor)
    }
    return summary
  }

  /// −Σ p log2 p of `values` scaled to sum 1 (negative values count as 0).
  static func entropyBits(_ values: [Float]) -> Double {
    let total = values.reduce(0.0) { $0 + Double(max($1, 0)) }
    guard total > 0 else { return 0 }
    return values.reduce(0.0) { sum, v in
      let p = Double(max(v, 0)) / total
      return p > 0 ? sum - p * log2(p) : sum
    }
  }
}
