import CVAKernels
import Foundation

/// Softmax and log-softmax over the last axis (other axes by transposition), with an optional
/// additive mask, forward and backward, plus the naive reference the fused kernel is checked against.

/// Fused, numerically stable softmax over rows of length `cols`: subtract the row max, exponentiate,
/// normalise. `mask` (length dividing into rows, repeating) is added first; a row whose entries are
/// all `-inf` yields zeros instead of NaN. When `log` is set, writes `x - max - log Σ exp`.
/// The exponentials use CVAKernels' vectorised `cva_exp_shifted_sum` (which maps `-inf` to exactly 0)
/// for softmax and libm for log-softmax; large tensors split their rows across cores.
private func softmaxRows(_ x: [Float], cols: Int, mask: [Float]?, log: Bool) -> [Float] {
  let n = x.count
  guard cols > 0, n > 0 else { return x }
  let rows = n / cols
  return x.withUnsafeBufferPointer { px in
    makeBuffer(n) { out in
      forEachElementChunk(rows, minimumChunk: Swift.max(1, (1 << 15) / cols)) { rowRange in
        for r in rowRange {
          softmaxRow(
            px.baseAddress! + r * cols, out.baseAddress! + r * cols, cols: cols,
            mask: mask.map { ($0, (r * cols) % $0.count) }, log: log)
        }
      }
    }
  }
}

/// `softmaxRows` over `rows · cols` elements at `p`, in place (the attention scores of
/// `fusedSelfAttention`, which need no copy).
func softmaxRowsInPlace(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, mask: [Float]?) {
  guard cols > 0, rows > 0 else { return }
  forEachElementChunk(rows, minimumChunk: Swift.max(1, (1 << 15) / cols)) { rowRange in
    for r in rowRange {
      softmaxRow(p + r * cols, p + r * cols, cols: cols, mask: mask.map { ($0, (r * cols) % $0.count) }, log: false)
    }
  }
}

/// One row of `softmaxRows`; `src` may equal `dst` (in place).
@inline(__always) private func softmaxRow(
  _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, cols: Int, mask: ([Float], Int)?, log: Bool
) {
  if let (m, offset) = mask {
    for j in 0..<cols { dst[j] = src[j] + m[offset + j] }
  } else if src != UnsafePointer(dst) {
    dst.update(from: src, count: cols)
  }
  let maxValue = cva_max(dst, cols)
  if maxValue == -.infinity {
    // Everything masked: give zero weight to every entry rather than 0/0.
    for j in 0..<cols { dst[j] = log ? -.infinity : 0 }
    return
  }
  if log {
    var sum: Float = 0
    for j in 0..<cols { sum += Foundation.exp(dst[j] - maxValue) }
    let shift = maxValue + Foundation.log(sum)
    for j in 0..<cols { dst[j] -= shift }
    return
  }
  let sum = cva_exp_shifted_sum(dst, cols, maxValue)
  let inv = 1 / sum
  for j in 0..<cols { dst[j] *= inv }
}

/// Validates a softmax mask: its shape must be a trailing block of `x`'s shape.
private func checkMask(_ mask: Tensor?, for x: Tensor) {
  guard let mask else { return }
  precondition(
    mask.rank <= x.rank && Array(x.shape.suffix(mask.rank)) == mask.shape && mask.rank >= 1,
    "softmax mask shape \(mask.shape) must be a trailing block of input shape \(x.shape)")
  precondition(!mask.requiresGrad || !GradientMode.isEnabled, "softmax masks are constants; detach the mask")
}

/// Softmax along `axis`: `exp(xᵢ − max) / Σⱼ exp(xⱼ − max)`.
///
/// `mask` is additive (use `0` to keep and `-.infinity` to drop; `Tensor.attentionMask` builds
/// one) and is applied along the last axis, so pass it only with `axis == -1`; its shape must be
/// a trailing block of `x`'s (e.g. `[T, T]` for scores `[B, H, T, T]`). Masked entries get exactly
/// zero weight; a fully masked row is all zeros. O(n), one fused pass per row.
public func softmax(_ x: Tensor, axis: Int = -1, mask: Tensor? = nil) -> Tensor {
  softmaxLike(x, axis: axis, mask: mask, log: false)
}

/// Log-softmax along `axis`: `xᵢ − max − log Σⱼ exp(xⱼ − max)` (stable, no `log(0)` for finite inputs).
public func logSoftmax(_ x: Tensor, axis: Int = -1, mask: Tensor? = nil) -> Tensor {
  softmaxLike(x, axis: axis, mask: mask, log: true)
}

private func softmaxLike(_ x: Tensor, axis: Int, mask: Tensor?, log: Bool) -> Tensor {
  let ax = x.normalizedAxis(axis)
  if ax != x.rank - 1 {
    precondition(mask == nil, "softmax mask is only supported on the last axis, got axis \(axis)")
    return softmaxLike(x.transposed(ax, -1), axis: -1, mask: nil, log: log).transposed(ax, -1)
  }
  checkMask(mask, for: x)
  let cols = x.shape.last ?? 1
  let y = softmaxRows(x.scalars, cols: cols, mask: mask?.scalars, log: log)
  let out = Tensor(shape: x.shape, scalars: y)
  guard shouldRecord(x) else { return out }
  return out.recording([x]) { g in
    [
      makeBuffer(y.count) { dx in
        // Rows are independent: workers take whole rows.
        forEachElementChunk(y.count / cols, minimumChunk: Swift.max(1, (1 << 15) / cols)) { rows in
          for r in rows {
            let row = r * cols
            var dot: Float = 0
            if log {
              // forward: y = x − logΣexp(x)  ->  dx = g − softmax(x) · Σ g
              for j in 0..<cols { dot += g[row + j] }
              for j in 0..<cols { dx[row + j] = g[row + j] - Foundation.exp(y[row + j]) * dot }
            } else {
              // forward: y = exp(x − max) / Σ  ->  dx = y ⊙ (g − Σⱼ gⱼ yⱼ)
              for j in 0..<cols { dot += g[row + j] * y[row + j] }
              for j in 0..<cols { dx[row + j] = y[row + j] * (g[row + j] - dot) }
            }
          }
        }
      }
    ]
  }
}

/// Naive softmax over the last axis in `Double`, two separate passes, no mask: the reference
/// the fused kernel is checked against.
public func softmaxReference(_ x: Tensor) -> Tensor {
  let cols = x.shape.last ?? 1
  var out = [Float](repeating: 0, count: x.count)
  for r in stride(from: 0, to: x.count, by: cols) {
    let row = x.scalars[r..<(r + cols)].map(Double.init)
    let m = row.max()!
    let e = row.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    for j in 0..<cols { out[r + j] = Float(e[j] / s) }
  }
  return Tensor(shape: x.shape, scalars: out)
}

extension Tensor {
  /// An additive attention mask: `0` where `allowed`, `-.infinity` elsewhere.
  public static func attentionMask(allowed: [Bool], shape: [Int]) -> Tensor {
    Tensor(shape: shape, scalars: allowed.map { $0 ? 0 : -.infinity })
  }

  /// A causal `[T, T]` mask: query `i` may attend to keys `j <= i`.
  public static func causalMask(_ tokens: Int) -> Tensor {
    attentionMask(allowed: (0..<(tokens * tokens)).map { $0 % tokens <= $0 / tokens }, shape: [tokens, tokens])
  }
}
