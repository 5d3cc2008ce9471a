/// Which heads a map is drawn from.
public enum HeadSelection: Sendable, Equatable {
  /// One head's weights, by index from 0.
  case head(Int)
  /// Every head's weights combined element-wise by `HeadFusion`.
  case fused(HeadFusion)
}

extension AttentionRecord {
  /// `[T, T]` weights of `layer` for a head or a fusion of heads.
  /// - Precondition: a full record.
  public func weights(layer: Int, _ selection: HeadSelection) -> [Float] {
    switch selection {
    case .head(let h): head(h, layer: layer)
    case .fused(let fusion): fused(layer: layer, fusion)
    }
  }

  /// Attention of the patch at `(column, row)` over all patches, at `layer`.
  public func queryMap(column: Int, row: Int, layer: Int, _ selection: HeadSelection) -> [Float] {
    patchMap(ofRow: self.row(token(column: column, row: row), layer: layer, selection))
  }

  /// Attention of the class token over all patches, at `layer`; nil without a class token.
  public func classTokenMap(layer: Int, _ selection: HeadSelection) -> [Float]? {
    hasClassToken ? patchMap(ofRow: row(0, layer: layer, selection)) : nil
  }

  /// Attention rollout (Abnar & Zuidema 2020): `R = Ã_L ⋯ Ã_1` with
  /// `Ã_l = rownormalise(fused(A_l) + I)`, `[T, T]`.
  ///
  /// With `discardRatio > 0`, the lowest `⌊ratio · T²⌋` fused weights of each layer are set
  /// to zero first, never the class token's weight on itself (vit-explain's convention).
  /// Unlike vit-explain, rows are normalised by their own sums (its `a / a.sum(dim=-1)`
  /// broadcasts the sums along the wrong axis).
  /// - Complexity: O(L·T³) (O(T²) for one layer: the product starts from `Ã_1`, not `I`).
  /// - Precondition: a full record.
  public func rollout(_ fusion: HeadFusion = .mean, discardRatio: Double = 0) -> [Float] {
    let t = tokens
    guard !layers.isEmpty else { return (0..<(t * t)).map { $0 / t == $0 % t ? 1 : 0 } }
    var result = rolloutFactor(layer: 0, fusion, discardRatio: discardRatio)
    for layer in 1..<layers.count {
      let a = rolloutFactor(layer: layer, fusion, discardRatio: discardRatio)
      // result = Ã_l · result
      var next = [Double](repeating: 0, count: t * t)
      for i in 0..<t {
        for k in 0..<t where a[i * t + k] != 0 {
          let w = a[i * t + k]
          for j in 0..<t { next[i * t + j] += w * result[k * t + j] }
        }
      }
      result = next
    }
    return result.map(Float.init)
  }

  /// Row `token` of `rollout(fusion, discardRatio:)`, `[T]`: `e_tᵀ Ã_L ⋯ Ã_1`, a row vector
  /// carried down the layers, so it costs O(L·T²) instead of O(L·T³) (the class token's row
  /// is all a class-token rollout map needs). A rows record recomputes each layer's rows from
  /// its queries and keys (`streamingRolloutRow`), which needs `discardRatio == 0`.
  public func rolloutRow(_ token: Int, _ fusion: HeadFusion = .mean, discardRatio: Double = 0) -> [Float] {
    guard isFull else {
      precondition(discardRatio == 0, "discarding the weakest weights needs every layer's full matrix")
      return streamingRolloutRow(token, fusion)
    }
    let t = tokens
    var row = [Double](repeating: 0, count: t)
    row[token] = 1
    for layer in layers.indices.reversed() {
      let a = rolloutFactor(layer: layer, fusion, discardRatio: discardRatio)
      // row = row · Ã_l
      var next = [Double](repeating: 0, count: t)
      for k in 0..<t where row[k] != 0 {
        let w = row[k]
        for j in 0..<t { next[j] += w * a[k * t + j] }
      }
      row = next
    }
    return row.map(Float.init)
  }

  /// `Ã_l = rownormalise(fused(A_l) + I)` after discarding the weakest weights, `[T, T]`.
  private func rolloutFactor(layer: Int, _ fusion: HeadFusion, discardRatio: Double) -> [Double] {
    let t = tokens
    var a = fused(layer: layer, fusion).map(Double.init)
    let discard = Int(discardRatio * Double(t * t))
    if discard > 0 {
      let order = a.indices.sorted { a[$0] < a[$1] }
      for index in order.prefix(discard) where index != 0 { a[index] = 0 }
    }
    for i in 0..<t { a[i * t + i] += 1 }
    for i in 0..<t {
      let sum = a[(i * t)..<((i + 1) * t)].reduce(0, +)
      for j in 0..<t { a[i * t + j] /= sum }
    }
    return a
  }

  /// Mean attention distance of every head (ViT paper, Figure 7, as the probing-vits
  /// reproduction computes it): for each query patch, `Σ_k A[q, k] · ‖centre_q − centre_k‖`
  /// over patch keys only (prefix tokens dropped, weights not renormalised), averaged over
  /// query patches. In input pixels; `[layers, heads]` row-major. A rows record recomputes
  /// the rows in blocks from its queries and keys (`streamingMeanDistances`).
  public func meanDistances(patchSize: Int) -> [Float] {
    guard isFull else { return streamingMeanDistances(patchSize: patchSize) }
    let n = patchCount
    var distance = [Double](repeating: 0, count: n * n)
    for q in 0..<n {
      for k in 0..<n {
        let dx = Double(q % gridWidth - k % gridWidth), dy = Double(q / gridWidth - k / gridWidth)
        distance[q * n + k] = (dx * dx + dy * dy).squareRoot() * Double(patchSize)
      }
    }
    var out: [Float] = []
    for layer in 0..<layers.count {
      for h in 0..<heads {
        let weights = head(h, layer: layer)
        var total = 0.0
        for q in 0..<n {
          let row = (prefixTokens + q) * tokens + prefixTokens
          for k in 0..<n { total += Double(weights[row + k]) * distance[q * n + k] }
        }
        out.append(Float(total / Double(n)))
      }
    }
    return out
  }

  /// DINO's keep-mass mask: the fewest cells of `map` holding at least `keep` of its total
  /// mass (cells sorted by value, largest first). Caron et al. 2021, `visualize_attention.py`.
  public static func keepMassMask(_ map: [Float], keep: Double) -> [Bool] {
    let total = map.reduce(0.0) { $0 + Double(Swift.max($1, 0)) }
    var mask = [Bool](repeating: false, count: map.count)
    guard total > 0 else { return mask }
    var mass = 0.0
    for index in map.indices.sorted(by: { map[$0] > map[$1] }) {
      guard mass < keep * total else { break }
      mask[index] = true
      mass += Double(Swift.max(map[index], 0))
    }
    return mask
  }

  /// Cosine similarity of every patch's position embedding with every other's (ViT paper,
  /// Figure 10): `embeddings` is `[N, D]`, the result `[N, N]`.
  public static func cosineSimilarities(_ embeddings: [Float], count n: Int) -> [Float] {
    let d = embeddings.count / n
    let norms = (0..<n).map { i in (0..<d).reduce(Float(0)) { $0 + embeddings[i * d + $1] * embeddings[i * d + $1] }.squareRoot() }
    var out = [Float](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        var dot: Float = 0
        for c in 0..<d { dot += embeddings[i * d + c] * embeddings[j * d + c] }
        out[i * n + j] = dot / Swift.max(norms[i] * norms[j], 1e-12)
      }
    }
    return out
  }
}
