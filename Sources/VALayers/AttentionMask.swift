/// Which keys each query may attend to.
///
/// Token layout: `prefixTokens` global tokens (class, registers) first, then the patches of a
/// `gridWidth × gridHeight` grid row-major. Prefix tokens always see and are seen by every
/// token; the restrictions apply between patches.
public enum AttentionMask: Sendable, Equatable {
  /// Every token attends to every token (standard self-attention).
  case full
  /// "Truncated" self-attention: a patch attends only to patches within `radius` patches in
  /// both directions (a `(2r+1)²` window, like a convolution), as used for long sequences.
  case window(radius: Int)
  /// Any graph: `allowed[q * T + k]` says whether query `q` may attend to key `k` (graph
  /// attention restricted to edges, as in GAT). Self-loops are the caller's choice.
  case adjacency([Bool])

  /// The allowed pairs as a row-major `[T, T]` table, or nil for `.full`.
  public func allowed(prefixTokens: Int, gridWidth: Int, gridHeight: Int) -> [Bool]? {
    let tokens = prefixTokens + gridWidth * gridHeight
    switch self {
    case .full:
      return nil
    case .adjacency(let allowed):
      precondition(allowed.count == tokens * tokens, "adjacency has \(allowed.count) entries, expected \(tokens)x\(tokens)")
      return allowed
    case .window(let radius):
      precondition(radius >= 0, "window radius must be non-negative, got \(radius)")
      var allowed = [Bool](repeating: true, count: tokens * tokens)
      for q in prefixTokens..<tokens {
        let qc = (q - prefixTokens) % gridWidth, qr = (q - prefixTokens) / gridWidth
        for k in prefixTokens..<tokens {
          let kc = (k - prefixTokens) % gridWidth, kr = (k - prefixTokens) / gridWidth
          allowed[q * tokens + k] = abs(qc - kc) <= radius && abs(qr - kr) <= radius
        }
      }
      return allowed
    }
  }
}
