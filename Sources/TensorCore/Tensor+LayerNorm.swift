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
  var xhat = record ? [Float](repeating: 0, count: x.count) : []
  var rstds = record ? [Float](repeating: 0, count: rows) : []
  let w = weight?.scalars, b = bias?.scalars
  let y = x.scalars.withUnsafeBufferPointer { px in
    makeBuffer(x.count) { out in
      for r in 0..<rows {
        let base = r * c
        var mean: Float = 0
        for j in 0..<c { mean += px[base + j] }
        mean /= Float(c)
        var variance: Float = 0
        for j in 0..<c {
          let d = px[base + j] - mean
          variance += d * d
        }
        variance /= Float(c)
        let rstd = 1 / (variance + eps).squareRoot()
        for j in 0..<c {
          let n = (px[base + j] - mean) * rstd
          if record { xhat[base + j] = n }
          out[base + j] = n * (w?[j] ?? 1) + (b?[j] ?? 0)
        }
        if record { rstds[r] = rstd }
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
    var dw = needW ? [Float](repeating: 0, count: c) : []
    var db = needB ? [Float](repeating: 0, count: c) : []
    for r in 0..<rows {
      let base = r * c
      var meanD: Float = 0, meanDX: Float = 0
      for j in 0..<c {
        let d = g[base + j] * (w?[j] ?? 1)
        meanD += d
        meanDX += d * xhat[base + j]
        if needW { dw[j] += g[base + j] * xhat[base + j] }
        if needB { db[j] += g[base + j] }
      }
      meanD /= Float(c)
      meanDX /= Float(c)
      if needX {
        for j in 0..<c {
          let d = g[base + j] * (w?[j] ?? 1)
          dx[base + j] = rstds[r] * (d - meanD - xhat[base + j] * meanDX)
        }
      }
    }
    var grads: [[Float]?] = [needX ? dx : nil]
    if weight != nil { grads.append(needW ? dw : nil) }
    if bias != nil { grads.append(needB ? db : nil) }
    return grads
  }
}
