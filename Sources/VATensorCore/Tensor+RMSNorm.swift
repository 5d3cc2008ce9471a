/// Root-mean-square normalisation over the last axis, forward and backward (Zhang & Sennrich 2019).

/// Scales each row by the inverse of its root mean square, then by a learned gain:
/// `y = x / √(mean(x²) + ε) · w`. No mean is subtracted and there is no shift.
///
/// Shapes: `x` is `[..., C]`, `weight` `[C]` (or `nil`); the result is `[..., C]`.
/// Matches timm's `RmsNorm` (`timm.layers.fast_norm.rms_norm`: `x * rsqrt(mean(x²) + eps) * weight`)
/// and `torch.nn.RMSNorm`. O(n), one pass per row in `Float`.
public func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float = 1e-6) -> Tensor {
  let c = x.shape.last ?? 1
  if let weight { precondition(weight.shape == [c], "rmsNorm weight \(weight.shape) != [\(c)] for input \(x.shape)") }
  let rows = c == 0 ? 0 : x.count / c
  let record = (x.requiresGrad || (weight?.requiresGrad ?? false)) && GradientMode.isEnabled
  // A missing gain becomes 1 so the inner loop has no branch.
  let w = weight?.scalars ?? [Float](repeating: 1, count: c)
  var xhat = record ? [Float](repeating: 0, count: x.count) : []
  var rstds = record ? [Float](repeating: 0, count: rows) : []
  let y = x.scalars.withUnsafeBufferPointer { px in
    xhat.withUnsafeMutableBufferPointer { pxhat in
      rstds.withUnsafeMutableBufferPointer { prstd in
        makeBuffer(x.count) { out in
          forEachElementChunk(rows, minimumChunk: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { rowRange in
            for r in rowRange {
              let row = px.baseAddress! + r * c, dst = out.baseAddress! + r * c
              // Σx² is the squared deviation from 0.
              let rstd = 1 / (laneSquaredDeviations(row, count: c, mean: 0) / Float(c) + eps).squareRoot()
              for j in 0..<c { dst[j] = row[j] * rstd * w[j] }
              if record {
                for j in 0..<c { pxhat[r * c + j] = row[j] * rstd }
                prstd[r] = rstd
              }
            }
          }
        }
      }
    }
  }
  let out = Tensor(shape: x.shape, scalars: y)
  guard record else { return out }
  let needX = x.requiresGrad, needW = weight?.requiresGrad ?? false
  return out.recording([x] + [weight].compactMap { $0 }) { g in
    // forward: y = x̂ · w,  x̂ = x · rstd,  rstd = (mean(x²) + ε)^(-1/2)
    // so:      dw = Σ_rows g · x̂,
    //          dx = rstd · (dx̂ − x̂ · mean(dx̂ · x̂)),  dx̂ = g · w
    //          (d rstd / dx_k = −rstd³ · x_k / C; LayerNorm's backward without the mean terms)
    var dx = needX ? [Float](repeating: 0, count: g.count) : []
    // Rows split across workers; each accumulates its own dw, summed afterwards.
    let workers = Swift.max(1, Swift.min(ComputeThreads.count, rows * c / (1 << 14)))
    var partialW = [Float](repeating: 0, count: workers * c)
    g.withUnsafeBufferPointer { pg in
      xhat.withUnsafeBufferPointer { pxhat in
        dx.withUnsafeMutableBufferPointer { pdx in
          partialW.withUnsafeMutableBufferPointer { pw in
            concurrentChunks(workers) { worker in
              let dw = pw.baseAddress! + worker * c
              for r in workerRange(worker, of: workers, count: rows) {
                let gr = pg.baseAddress! + r * c, xr = pxhat.baseAddress! + r * c
                var meanDX: Float = 0
                for j in 0..<c {
                  meanDX += gr[j] * w[j] * xr[j]
                  dw[j] += gr[j] * xr[j]
                }
                meanDX /= Float(c)
                if needX {
                  let rstd = rstds[r], dr = pdx.baseAddress! + r * c
                  for j in 0..<c { dr[j] = rstd * (gr[j] * w[j] - xr[j] * meanDX) }
                }
              }
            }
          }
        }
      }
    }
    var dw = [Float](repeating: 0, count: c)
    for worker in 0..<workers {
      for j in 0..<c { dw[j] += partialW[worker * c + j] }
    }
    var grads: [[Float]?] = [needX ? dx : nil]
    if weight != nil { grads.append(needW ? dw : nil) }
    return grads
  }
}
