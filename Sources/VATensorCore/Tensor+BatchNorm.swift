/// Batch normalisation over the channels of `[N, C, H, W]`, forward and backward
/// (Ioffe & Szegedy 2015).

/// Whether `batchNorm2d` normalises with the batch's statistics or the running ones.
public enum BatchNormMode: Sendable, Equatable {
  /// Normalise with this batch's mean and biased variance; update the running statistics
  /// (when given) as `r ← (1 − momentum)·r + momentum·batch`, with the unbiased variance
  /// (`n/(n − 1)` times the biased one), as `torch.nn.BatchNorm2d` in `train()` mode.
  case training(momentum: Float)
  /// Normalise with the running statistics, which stay unchanged (`eval()` mode).
  case inference
}

/// Normalises each channel, then scales and shifts: `y = (x − μ_c) / √(σ²_c + ε) · w_c + b_c`.
///
/// Shapes: `x` is `[N, C, H, W]` (any rank ≥ 2 with channels on axis 1 works: `[N, C]` too);
/// `weight`, `bias`, `runningMean` and `runningVariance` are `[C]` (weight and bias may be
/// `nil`); the result has `x`'s shape. In `.training` mode μ and σ² are the batch's (biased)
/// statistics over `N·H·W` elements per channel, and the running statistics, when given, are
/// updated **in place** (they are buffers, not parameters: no gradient flows into them). In
/// `.inference` mode both running statistics are required and used as μ and σ².
/// Matches `torch.nn.functional.batch_norm` (PyTorch defaults: momentum 0.1, eps 1e-5).
/// Complexity: O(n), two passes per channel; channel sums are accumulated in `Double`
/// because one channel can hold hundreds of thousands of elements at batch 64.
public func batchNorm2d(
  _ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVariance: Tensor?,
  mode: BatchNormMode, eps: Float = 1e-5
) -> Tensor {
  precondition(x.rank >= 2, "batchNorm2d needs [N, C, ...], got \(x.shape)")
  let (n, c) = (x.shape[0], x.shape[1])
  let inner = x.shape[2...].reduce(1, *)
  for (label, t) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVariance", runningVariance)] {
    if let t { precondition(t.shape == [c], "batchNorm2d \(label) \(t.shape) != [\(c)] for input \(x.shape)") }
  }
  let perChannel = n * inner
  var means = [Float](repeating: 0, count: c), rstds = [Float](repeating: 0, count: c)
  switch mode {
  case .training(let momentum):
    precondition(perChannel > 1, "batchNorm2d in training mode needs more than one value per channel, input \(x.shape)")
    // Channels are independent, so workers take whole channels.
    let statistics = x.scalars.withUnsafeBufferPointer { px in
      concurrentMap(c, minimumChunk: max(1, (1 << 15) / max(perChannel, 1))) { ch -> (mean: Float, variance: Float) in
        var sum = 0.0
        for img in 0..<n {
          let base = (img * c + ch) * inner
          for j in 0..<inner { sum += Double(px[base + j]) }
        }
        let mean = sum / Double(perChannel)
        // Mean-subtracted second pass: E[x²] − E[x]² cancels badly for large-mean channels.
        var squares = 0.0
        for img in 0..<n {
          let base = (img * c + ch) * inner
          for j in 0..<inner {
            let d = Double(px[base + j]) - mean
            squares += d * d
          }
        }
        return (Float(mean), Float(squares / Double(perChannel)))
      }
    }
    means = statistics.map(\.mean)
    let variances = statistics.map(\.variance)
    rstds = variances.map { 1 / ($0 + eps).squareRoot() }
    let unbias = Float(perChannel) / Float(perChannel - 1)
    if let runningMean {
      for ch in 0..<c { runningMean.scalars[ch] = (1 - momentum) * runningMean.scalars[ch] + momentum * means[ch] }
    }
    if let runningVariance {
      for ch in 0..<c {
        runningVariance.scalars[ch] = (1 - momentum) * runningVariance.scalars[ch] + momentum * variances[ch] * unbias
      }
    }
  case .inference:
    guard let runningMean, let runningVariance else {
      preconditionFailure("batchNorm2d in inference mode needs runningMean and runningVariance")
    }
    means = runningMean.scalars
    rstds = runningVariance.scalars.map { 1 / ($0 + eps).squareRoot() }
  }
  // Fold normalisation and affine into one scale and shift per channel: y = x·a + s.
  let w = weight?.scalars, b = bias?.scalars
  let scale = (0..<c).map { rstds[$0] * (w?[$0] ?? 1) }
  let shift = (0..<c).map { (b?[$0] ?? 0) - means[$0] * scale[$0] }
  let values = x.scalars.withUnsafeBufferPointer { px in
    makeBuffer(x.count) { out in
      forEachElementChunk(n, minimumChunk: max(1, (1 << 15) / max(c * inner, 1))) { images in
        for img in images {
          for ch in 0..<c {
            let base = (img * c + ch) * inner, a = scale[ch], s = shift[ch]
            for j in 0..<inner { out[base + j] = px[base + j] * a + s }
          }
        }
      }
    }
  }
  let out = Tensor(shape: x.shape, scalars: values)
  let record = ([x] + [weight, bias].compactMap { $0 }).contains(where: \.requiresGrad) && GradientMode.isEnabled
  guard record else { return out }
  let input = x.scalars
  let isTraining = mode != .inference
  let needX = x.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
  return out.recording([x] + [weight, bias].compactMap { $0 }) { g in
    // forward: y = x̂ · w + b,  x̂ = (x − μ) · rstd
    // so:      dw = Σ_{n,hw} g · x̂,  db = Σ_{n,hw} g,  dx̂ = g · w, and
    //   training (μ, σ² depend on x): dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))
    //   inference (μ, σ² constants):  dx = rstd · dx̂
    var dx = needX ? [Float](repeating: 0, count: input.count) : []
    // Channels are independent: each worker writes only its own channels of dx.
    let sums = g.withUnsafeBufferPointer { pg in
      input.withUnsafeBufferPointer { px in
        dx.withUnsafeMutableBufferPointer { pdx in
          concurrentMap(c, minimumChunk: max(1, (1 << 15) / max(perChannel, 1))) { ch -> (g: Float, gx: Float) in
            let mean = means[ch], rstd = rstds[ch]
            var sumG = 0.0, sumGX = 0.0
            for img in 0..<n {
              let base = (img * c + ch) * inner
              for j in 0..<inner {
                let gj = Double(pg[base + j])
                sumG += gj
                sumGX += gj * Double((px[base + j] - mean) * rstd)
              }
            }
            guard needX else { return (Float(sumG), Float(sumGX)) }
            let wc = w?[ch] ?? 1
            // mean(dx̂) = w·Σg / n and mean(dx̂ · x̂) = w·Σ(g·x̂) / n.
            let meanD = isTraining ? wc * Float(sumG / Double(perChannel)) : 0
            let meanDX = isTraining ? wc * Float(sumGX / Double(perChannel)) : 0
            for img in 0..<n {
              let base = (img * c + ch) * inner
              for j in 0..<inner {
                let xhat = (px[base + j] - mean) * rstd
                pdx[base + j] = rstd * (pg[base + j] * wc - meanD - xhat * meanDX)
              }
            }
            return (Float(sumG), Float(sumGX))
          }
        }
      }
    }
    let dw = sums.map(\.gx), db = sums.map(\.g)
    var grads: [[Float]?] = [needX ? dx : nil]
    if weight != nil { grads.append(needW ? dw : nil) }
    if bias != nil { grads.append(needB ? db : nil) }
    return grads
  }
}
