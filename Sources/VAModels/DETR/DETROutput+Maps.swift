import VATensorCore

// The maps DETR's paper and notebook draw from one forward pass: a detected object's
// cross-attention over the image (Fig. 6) and the encoder's self-attention at a point (Fig. 3).
// The notebook reads them from `nn.MultiheadAttention`, which averages the heads: so do these.
extension DETROutput {
  /// Decoder layer `layer`'s (default: the last) cross-attention of object query `query`, heads
  /// averaged, as the feature map `[h, w]`; each map sums to 1.
  public func crossAttentionMap(query: Int, layer: Int? = nil) -> Tensor {
    let l = layer ?? decoderCrossAttention.count - 1
    precondition(decoderCrossAttention.indices.contains(l), "decoder layer \(l) is not in 0..<\(decoderCrossAttention.count)")
    let weights = decoderCrossAttention[l]  // [heads, Q, S]
    precondition((0..<weights.shape[1]).contains(query), "query \(query) is not in 0..<\(weights.shape[1])")
    return headMean(weights, row: query)
  }

  /// Encoder layer `layer`'s (default: the last) self-attention from feature cell
  /// `(row, column)`, heads averaged, as the feature map `[h, w]`; each map sums to 1.
  public func encoderAttentionMap(row: Int, column: Int, layer: Int? = nil) -> Tensor {
    let l = layer ?? encoderAttention.count - 1
    precondition(encoderAttention.indices.contains(l), "encoder layer \(l) is not in 0..<\(encoderAttention.count)")
    precondition(
      (0..<featureHeight).contains(row) && (0..<featureWidth).contains(column),
      "cell (\(row), \(column)) is outside the \(featureHeight)×\(featureWidth) feature map")
    return headMean(encoderAttention[l], row: row * featureWidth + column)
  }

  /// The feature cell under input pixel `(x, y)`: `(y / stride, x / stride)` with the
  /// backbone's `featureStride` (32 for the hub's DETR, 16 for a three-stage trunk), clamped to
  /// the map (the notebook's `idx = (y // fact, x // fact)`, `fact` = 32 there).
  public func featureCell(x: Int, y: Int) -> (row: Int, column: Int) {
    (min(max(y / featureStride, 0), featureHeight - 1), min(max(x / featureStride, 0), featureWidth - 1))
  }

  /// Row `row` of `weights` `[heads, R, S]`, averaged over the heads, as `[h, w]`.
  private func headMean(_ weights: Tensor, row: Int) -> Tensor {
    let (heads, rows, s) = (weights.shape[0], weights.shape[1], weights.shape[2])
    precondition(s == featureHeight * featureWidth, "attention has \(s) keys, the map \(featureHeight)×\(featureWidth)")
    let values = weights.scalars
    var mean = [Float](repeating: 0, count: s)
    for h in 0..<heads {
      let base = (h * rows + row) * s
      for k in 0..<s { mean[k] += values[base + k] }
    }
    return Tensor(shape: [featureHeight, featureWidth], scalars: mean.map { $0 / Float(heads) })
  }
}
