import CVAKernels

/// Layer normalisation over the last axis, forward and backward (Ba, Kiros & Hinton 2016).

/// Normalises each row over the last axis, then scales and shifts: `y = (x − μ) / √(σ² + ε) · w + b`.
///
/// Shapes: `x` is `[..., C]`, `weight` and `bias` are `[C]` (either may be `nil`); the result is
/// `[..., C]`. σ² is the biased variance, as `torch.nn.LayerNorm` (default `eps = 1e-5`; timm's
/// ViT uses `1e-6`). O(n), two passes per row in `Float` with a mean-subtracted variance.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
  let c = x.shape.last ?? 1
  if let weight { precondition(weight.shape == [c], "layerNorm weight \(weight.shape) != [\(c)] for input \(x.shape)") }
  if let bias { precondition(bias.shape == [c], "layerNorm bias \(bias.shape) != [\(c)] for input \(x.shape)") }
  let rows = c == 0 ? 0 : x.count / c
  let record = ([x] + [weight, bias].compactMap { $0 }).contains(where: \.requiresGrad) && GradientMode.isEnabled
  // Missing affine terms become 1 and 0 so the inner loops have no branches and vectorise.
  let w = weight?.scalars ?? [Float](repeating: 1, count: c), b = bias?.scalars ?? [Float](repeating: 0, count: c)
  var xhat = record ? [Float](repeating: 0, count: x.count) : []
  var rstds = record ? [Float](repeating: 0, count: rows) : []
  let y = x.scalars.withUnsafeBufferPointer { px in
    xhat.withUnsafeMutableBufferPointer { pxhat in
      rstds.withUnsafeMutableBufferPointer { prstd in
        makeBuffer(x.count) { out in
          forEachElementChunk(rows, minimumChunk: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { rowRange in
            for r in rowRange {
              let row = px.baseAddress! + r * c, dst = out.baseAddress! + r * c
              let (mean, rstd) = layerNormRowStatistics(row, count: c, eps: eps)
              for j in 0..<c { dst[j] = (row[j] - mean) * rstd * w[j] + b[j] }
              if record {
                for j in 0..<c { pxhat[r * c + j] = (row[j] - mean) * rstd }
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
  let inputs = [x] + [weight, bias].compactMap { $0 }
  let needX = x.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
  return out.recording(inputs) { g in
    // forward: y = x̂ · w + b,  x̂ = (x − μ) · rstd
    // so:      dw = Σ_rows g · x̂,  db = Σ_rows g,
    //          dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)),  dx̂ = g · w   (llm.c layernorm_backward)
    var dx = needX ? [Float](repeating: 0, count: g.count) : []
    // Rows split across workers; each accumulates its own dw and db (`[workers, 2, C]`), summed
    // afterwards in worker order.
    let workers = Swift.max(1, Swift.min(ComputeThreads.count, rows * c / (1 << 14)))
    var partials = [Float](repeating: 0, count: workers * 2 * c)
    g.withUnsafeBufferPointer { pg in
      xhat.withUnsafeBufferPointer { pxhat in
        rstds.withUnsafeBufferPointer { prstd in
          w.withUnsafeBufferPointer { pweight in
            dx.withUnsafeMutableBufferPointer { pdx in
              partials.withUnsafeMutableBufferPointer { pp in
                concurrentChunks(workers) { worker in
                  let part = workerRange(worker, of: workers, count: rows), first = part.lowerBound
                  guard !part.isEmpty else { return }
                  let dw = pp.baseAddress! + worker * 2 * c
                  cva_layer_norm_backward(
                    part.count, c, pg.baseAddress! + first * c, pxhat.baseAddress! + first * c, prstd.baseAddress! + first,
                    pweight.baseAddress, needX ? pdx.baseAddress! + first * c : nil, dw, dw + c)
                }
              }
            }
          }
        }
      }
    }
    var dw = [Float](repeating: 0, count: c), db = dw
    for worker in 0..<workers {
      for j in 0..<c {
        dw[j] += partials[worker * 2 * c + j]
        db[j] += partials[worker * 2 * c + c + j]
      }
    }
    var grads: [[Float]?] = [needX ? dx : nil]
    if weight != nil { grads.append(needW ? dw : nil) }
    if bias != nil { grads.append(needB ? db : nil) }
    return grads
  }
}

/// One row's mean μ and reciprocal standard deviation `1 / √(σ² + ε)` (σ² biased), as `layerNorm`
/// normalises it: the one definition both `layerNorm` and `linear(layerNormed:...)` use, so the
/// fused path's statistics have the composed path's bits. O(count), two passes in 16 lanes.
@inline(__always) func layerNormRowStatistics(_ row: UnsafePointer<Float>, count c: Int, eps: Float) -> (mean: Float, rstd: Float) {
  let mean = laneSum(row, count: c) / Float(c)
  let variance = laneSquaredDeviations(row, count: c, mean: mean)
  return (mean, 1 / (variance / Float(c) + eps).squareRoot())
}
