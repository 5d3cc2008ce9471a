import VAModels
import VATensorCore

/// The attention-pooling head (timm's `AttentionPoolLatent`, `global_pool='map'`; SigLIP's
/// head): one learned query attending over the patches, the map such a model has in place
/// of a class token's. Every consumer (figures, the bare map, the page, the dump,
/// faithfulness, attribution, patch-classify) reads it through `poolMap(_:)`.
extension AttentionRecord {
  /// Heads of the attention-pooling head (0 without one); it may differ from `heads`.
  public var poolHeads: Int { pool.map { $0.count / patchCount } ?? 0 }

  /// The attention-pooling head's query over the patches, `[N]` row-major over the grid:
  /// head `h`'s weights, or every head's combined element-wise as `row(_:layer:_:)` fuses a
  /// layer's (mean, max or min). Nil without such a head, or for a head it does not have.
  public func poolMap(_ selection: HeadSelection) -> [Float]? {
    guard let pool else { return nil }
    let n = patchCount, count = poolHeads
    func head(_ h: Int) -> [Float] { Array(pool[(h * n)..<((h + 1) * n)]) }
    switch selection {
    case .head(let h):
      return (0..<count).contains(h) ? head(h) : nil
    case .fused(let fusion):
      var out = head(0)
      for h in 1..<Swift.max(count, 1) { Self.combine(&out, head(h), fusion) }
      if fusion == .mean { out = out.map { $0 / Float(count) } }
      return out
    }
  }
}

extension VisionTransformer.Output {
  /// Image `i`'s attention record from a forward over `[B, 3, H, W]` that recorded attention
  /// (`recordAttention: true`): its `[heads, T, T]` slice of every layer and its
  /// `[poolHeads, 1, N]` slice of the attention-pooling head's weights, when the model has one.
  /// - Precondition: a batched output (`tokens` is `[B, T, D]`) with attention recorded.
  public func attentionRecord(image i: Int, configuration c: ViTConfiguration) -> AttentionRecord {
    precondition(tokens.rank == 3, "a batched output has [B, T, D] tokens, got \(tokens.shape)")
    let b = tokens.shape[0]
    func own(_ all: [Float]) -> [Float] {
      let size = all.count / b
      return Array(all[(i * size)..<((i + 1) * size)])
    }
    return AttentionRecord(
      layers: attention.map { own($0.scalars) }, heads: c.headCount, prefixTokens: c.prefixTokens,
      hasClassToken: c.classToken, gridWidth: gridWidth, gridHeight: gridHeight, pool: poolAttention.map { own($0.scalars) })
  }
}
