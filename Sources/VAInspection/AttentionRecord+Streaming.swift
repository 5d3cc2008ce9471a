import VAModels
import VATensorCore

/// What to keep of a model's attention while it runs.
public enum AttentionCapture: Sendable, Equatable {
  /// Every layer's `[heads, T, T]`: O(L·H·T²) memory.
  case full
  /// Per layer, the rows `[heads, R, T]` of the query tokens `tokens` (class token, query
  /// patch, …), and with `queriesKeys` each layer's queries and keys `[T, 2C]` so that any
  /// other row, rollout and attention distance can be recomputed: O(L·(H·R·T + T·C)).
  case rows(tokens: [Int], queriesKeys: Bool)
}

extension VisionTransformer {
  /// Runs the model on one normalised image `[3, H, W]` without gradients, keeping the
  /// attention `capture` asks for. With `.rows` the forward runs tiled, so no layer ever
  /// holds a `[T, T]` matrix. Either record keeps the attention-pooling head's weights
  /// (`pool`, `[poolHeads, 1, N]`) when the model has one. `recordBlockOutputs` also keeps
  /// every block's output tokens (`Output.blockOutputs`).
  /// - Precondition: `.rows` tokens lie in `0..<T` for this image's grid.
  public func inspect(_ image: Tensor, capture: AttentionCapture, recordBlockOutputs: Bool = false) -> (output: Output, attention: AttentionRecord) {
    let c = configuration
    precondition(image.rank == 3 && image.shape[0] == 3, "input must be [3, H, W], got \(image.shape)")
    let gw = image.shape[2] / c.patchSize, gh = image.shape[1] / c.patchSize
    let t = c.prefixTokens + gw * gh, d = c.embedDimension / c.headCount
    switch capture {
    case .full:
      let output = withGradientsDisabled { self(image, recordAttention: true, recordBlockOutputs: recordBlockOutputs) }
      let record = AttentionRecord(
        layers: output.attention.map(\.scalars), heads: c.headCount, prefixTokens: c.prefixTokens,
        hasClassToken: c.classToken, gridWidth: gw, gridHeight: gh, pool: output.poolAttention?.scalars)
      return (output, record)
    case .rows(let tokens, let keepQueriesKeys):
      precondition(tokens.allSatisfy { (0..<t).contains($0) }, "attention rows \(tokens) outside 0..<\(t)")
      var rows: [[Float]] = [], queriesKeys: [[Float]] = []
      let layout = QueryKeyLayout.fused(tokens: t, heads: c.headCount, headDimension: d)
      let output = withGradientsDisabled {
        self(image, recordBlockOutputs: recordBlockOutputs) { _, qkv in
          let values = qkv.scalars  // [1, T, 3C]
          rows.append(attentionRows(queriesKeys: values, layout: layout, rows: tokens))
          if keepQueriesKeys { queriesKeys.append(Self.queriesAndKeys(values, tokens: t, channels: c.embedDimension)) }
        }
      }
      let record = AttentionRecord(
        rows: rows, rowTokens: tokens, queriesKeys: queriesKeys, headDimension: keepQueriesKeys ? d : 0,
        heads: c.headCount, prefixTokens: c.prefixTokens, hasClassToken: c.classToken, gridWidth: gw, gridHeight: gh,
        pool: output.poolAttention?.scalars)
      return (output, record)
    }
  }

  /// The q and k columns of a fused projection `[T, 3C]`, as `[T, 2C]`.
  private static func queriesAndKeys(_ qkv: [Float], tokens t: Int, channels c: Int) -> [Float] {
    var out = [Float](repeating: 0, count: t * 2 * c)
    qkv.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for i in 0..<t { (dst.baseAddress! + i * 2 * c).update(from: src.baseAddress! + i * 3 * c, count: 2 * c) }
      }
    }
    return out
  }
}

/// Rollout and attention distance of a rows record, recomputed layer by layer from its
/// queries and keys in blocks of rows, never holding a `[T, T]` matrix.
extension AttentionRecord {
  /// `rolloutRow(token, fusion)` without the matrices: the row vector `r` goes down the
  /// layers as `r ← r · Ã_l`, where row k of `Ã_l = rownormalise(fused(A_l) + I)` is
  /// recomputed only while `r[k] ≠ 0` (one row at the last layer, all of them below).
  /// - Complexity: O(L·H·T²·d) time, O(H·T·blockRows) memory beyond the record.
  func streamingRolloutRow(_ token: Int, _ fusion: HeadFusion) -> [Float] {
    rolloutRows(token, fusions: [fusion])[0]
  }

  /// Rollout rows of `token` for several fusions at once (`rolloutRow(token, fusion)` for
  /// each), sharing one recomputation of every layer's attention rows: what the page needs
  /// for its three fusions, at a third of the cost of three calls. A full record computes
  /// each with `rolloutRow`.
  /// - Complexity: O(L·H·T²·d + F·L·H·T²) time for F fusions.
  public func rolloutRows(_ token: Int, fusions: [HeadFusion]) -> [[Float]] {
    guard !isFull else { return fusions.map { rolloutRow(token, $0) } }
    precondition(!queriesKeys.isEmpty, "rollout of a rows record needs its queries and keys")
    let t = tokens, h = heads
    var rows = [[Double]](repeating: [Double](repeating: 0, count: t), count: fusions.count)
    for f in fusions.indices { rows[f][token] = 1 }
    for layer in layers.indices.reversed() {
      var next = [[Double]](repeating: [Double](repeating: 0, count: t), count: fusions.count)
      var fusedRow = [Float](repeating: 0, count: t)
      // weights: [H, R, T] for the query tokens `block`.
      func accumulate(_ block: [Int], _ weights: UnsafeBufferPointer<Float>) {
        let r = block.count
        for (f, fusion) in fusions.enumerated() {
          for (i, k) in block.enumerated() where rows[f][k] != 0 {
            for j in 0..<t { fusedRow[j] = weights[i * t + j] }
            for head in 1..<Swift.max(h, 1) {
              let base = (head * r + i) * t
              switch fusion {
              case .mean: for j in 0..<t { fusedRow[j] += weights[base + j] }
              case .max: for j in 0..<t { fusedRow[j] = Swift.max(fusedRow[j], weights[base + j]) }
              case .min: for j in 0..<t { fusedRow[j] = Swift.min(fusedRow[j], weights[base + j]) }
              }
            }
            if fusion == .mean { for j in 0..<t { fusedRow[j] /= Float(h) } }
            // Ã[k, :] = (fused[k, :] + e_k) / (Σ fused[k, :] + 1), as `rolloutFactor` builds it.
            var sum = 1.0
            for j in 0..<t { sum += Double(fusedRow[j]) }
            let coefficient = rows[f][k] / sum
            next[f].withUnsafeMutableBufferPointer { out in
              for j in 0..<t { out[j] += coefficient * Double(fusedRow[j]) }
            }
            next[f][k] += coefficient
          }
        }
      }
      let live = (0..<t).filter { k in rows.contains { $0[k] != 0 } }
      if live.count <= 64 {
        attentionRows(queriesKeys: queriesKeys[layer], layout: queryKeyLayout, rows: live).withUnsafeBufferPointer { accumulate(live, $0) }
      } else {
        forEachAttentionRowBlock(queriesKeys: queriesKeys[layer], layout: queryKeyLayout) { range, weights in
          accumulate(Array(range), weights)
        }
      }
      rows = next
    }
    return rows.map { $0.map(Float.init) }
  }

  /// `meanDistances(patchSize:)` without the matrices: each layer's rows recomputed in
  /// blocks, each row's `Σ_k A[q, k] · ‖centre_q − centre_k‖` summed as it goes.
  /// - Complexity: O(L·H·T²·d) time, O(H·T·blockRows) memory beyond the record.
  func streamingMeanDistances(patchSize: Int) -> [Float] {
    precondition(!queriesKeys.isEmpty, "attention distance of a rows record needs its queries and keys")
    let t = tokens, p = prefixTokens, gw = gridWidth, gh = gridHeight, n = patchCount
    // Distance by |dx|, |dy| in patches, in pixels.
    var table = [Float](repeating: 0, count: gw * gh)
    for dx in 0..<gw {
      for dy in 0..<gh { table[dx * gh + dy] = Float((Double(dx * dx + dy * dy)).squareRoot() * Double(patchSize)) }
    }
    var out: [Float] = []
    for layer in layers.indices {
      var totals = [Double](repeating: 0, count: heads)
      forEachAttentionRowBlock(queriesKeys: queriesKeys[layer], layout: queryKeyLayout) { range, weights in
        let r = range.count
        for (i, q) in range.enumerated() where q >= p {
          let qc = (q - p) % gw, qr = (q - p) / gw
          for head in 0..<heads {
            let base = (head * r + i) * t + p
            var total = 0.0
            for kr in 0..<gh {
              let dy = abs(qr - kr), rowBase = base + kr * gw
              var partial: Float = 0
              for kc in 0..<gw { partial += weights[rowBase + kc] * table[abs(qc - kc) * gh + dy] }
              total += Double(partial)
            }
            totals[head] += total
          }
        }
      }
      out += totals.map { Float($0 / Double(n)) }
    }
    return out
  }
}
