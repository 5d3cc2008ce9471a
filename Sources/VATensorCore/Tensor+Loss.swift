import Foundation

/// Dropout and cross-entropy, forward and backward.

/// Inverted dropout (Srivastava et al. 2014): zeroes each element with probability `p` and scales
/// survivors by `1 / (1 − p)`, so evaluation needs no rescaling. Call it only in training; at
/// inference simply do not call it. The generator is passed in, never global. O(n).
public func dropout<G: RandomNumberGenerator>(_ x: Tensor, probability p: Float, using rng: inout G) -> Tensor {
  precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
  if p == 0 { return x }
  var split = SplitMix64(seed: rng.next())
  let keep = 1 / (1 - p)
  let mask = makeBuffer(x.count) { m in
    for i in 0..<x.count { m[i] = split.nextUnitFloat() < p ? 0 : keep }
  }
  // forward: y = x ⊙ mask  ->  dx = g ⊙ mask (via the recorded multiply)
  return x * Tensor(shape: x.shape, scalars: mask)
}

/// Mean cross-entropy between `logits` and integer class labels, with label smoothing.
///
/// Shapes: `logits` is `[N, K]`, `labels` has `N` entries in `0..<K`; the result is a scalar.
/// With smoothing ε the target is `(1 − ε) · onehot + ε / K`, so the loss per row is
/// `−Σ_k q_k log softmax(x)_k`, averaged over the batch: exactly
/// `torch.nn.functional.cross_entropy(logits, labels, label_smoothing=ε)`. O(N · K).
public func crossEntropy(logits: Tensor, labels: [Int], labelSmoothing: Float = 0) -> Tensor {
  precondition(logits.rank == 2, "crossEntropy expects logits [N, K], got \(logits.shape)")
  let (n, k) = (logits.shape[0], logits.shape[1])
  precondition(labels.count == n, "\(labels.count) labels for \(n) rows of logits")
  precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "labelSmoothing must be in [0, 1], got \(labelSmoothing)")
  for l in labels { precondition(l >= 0 && l < k, "label \(l) out of range 0..<\(k)") }
  let logp = logSoftmax(logits).scalars
  let onTarget = 1 - labelSmoothing + labelSmoothing / Float(k), offTarget = labelSmoothing / Float(k)
  var loss = 0.0
  for r in 0..<n {
    for c in 0..<k { loss -= Double((c == labels[r] ? onTarget : offTarget) * logp[r * k + c]) }
  }
  let out = Tensor(Float(loss / Double(n)))
  guard shouldRecord(logits) else { return out }
  // forward: L = −(1/N) Σ_r Σ_k q_rk log softmax(x_r)_k, with Σ_k q_rk = 1
  // so:      dx_rk = (softmax(x_r)_k − q_rk) / N
  return out.recording([logits]) { g in
    let scale = g[0] / Float(n)
    return [
      makeBuffer(n * k) { dx in
        for r in 0..<n {
          for c in 0..<k {
            dx[r * k + c] = (Foundation.exp(logp[r * k + c]) - (c == labels[r] ? onTarget : offTarget)) * scale
          }
        }
      }
    ]
  }
}

/// Mean squared error `mean((prediction − target)²)` over all elements; a scalar.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
  precondition(prediction.shape == target.shape, "meanSquaredError shapes differ: \(prediction.shape) vs \(target.shape)")
  return (prediction - target).squared().mean()
}
