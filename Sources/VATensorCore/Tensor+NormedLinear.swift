// A layer norm applied while the next GEMM packs its input (issue 29, "fused forward"), for inference.

/// What `linear(layerNormed:...)` applies to each output element, in the GEMM's epilogue.
public enum LinearActivation: Sendable {
  /// Nothing: the affine map.
  case none
  /// GELU's exact (erf) form, as `gelu(_:approximation: .exact)` (timm's `Mlp.fc1` then `act`).
  case gelu
}

/// `activation(linear(layerNorm(x, ...), weight, bias))` without the normalised tensor: each row's
/// mean and `1/√(σ² + ε)` are computed first (O(rows · in), the statistics `layerNorm` uses), and
/// the GEMM normalises each panel of `x` as it packs it (`SGEMMPrologue.layerNorm`), so the
/// `[rows, in]` normalised input is never written or read back; GELU, if asked, rides in the
/// epilogue as in `linearGELU`. A pre-norm transformer block's `fc1(norm2(x))` is this.
///
/// Shapes: `x` is `[..., in]`; `normWeight` and `normBias` (γ, β of the norm; either may be
/// `nil`) are `[in]`; `weight` is `[out, in]`, `bias` `[out]`; the result is `[..., out]`.
/// Each normalised value has the bits `layerNorm` gives it (same statistics, same rounding
/// steps), so the product equals the composed path's GEMM on them; GELU within the vectorised
/// erf's 1.5e-7 (`SGEMMEpilogue.geluErf`).
/// When gradients are recorded for any input, this is the composed
/// `linear(layerNorm(x, ...), ...)` (its backward needs the normalised input, which the fused
/// pass never stores); the composed path is also the reference this one is tested against.
/// Complexity: O(rows · in · out), plus O(rows · in) for the statistics and O(rows) memory.
public func linear(
  layerNormed x: Tensor, normWeight: Tensor?, normBias: Tensor?, eps: Float,
  weight: Tensor, bias: Tensor? = nil, activation: LinearActivation = .none
) -> Tensor {
  let inputs = [x, weight] + [normWeight, normBias, bias].compactMap { $0 }
  guard !(inputs.contains(where: \.requiresGrad) && GradientMode.isEnabled) else {
    return composedNormedLinear(x, normWeight: normWeight, normBias: normBias, eps: eps, weight: weight, bias: bias, activation: activation)
  }
  precondition(weight.rank == 2, "linear(layerNormed:) weight must be [out, in], got \(weight.shape)")
  let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 1 && x.shape.last == inFeatures, "linear(layerNormed:) input \(x.shape) must end in weight's in = \(inFeatures)")
  if let normWeight { precondition(normWeight.shape == [inFeatures], "linear(layerNormed:) norm weight \(normWeight.shape) != [\(inFeatures)]") }
  if let normBias { precondition(normBias.shape == [inFeatures], "linear(layerNormed:) norm bias \(normBias.shape) != [\(inFeatures)]") }
  if let bias { precondition(bias.shape == [outFeatures], "linear(layerNormed:) bias \(bias.shape) != [\(outFeatures)]") }
  let rows = x.count / Swift.max(inFeatures, 1)
  guard rows > 0 && outFeatures > 0 && inFeatures > 0 else {
    return composedNormedLinear(x, normWeight: normWeight, normBias: normBias, eps: eps, weight: weight, bias: bias, activation: activation)
  }
  let (mean, rstd) = layerNormStatistics(x, rows: rows, channels: inFeatures, eps: eps)
  // sgemm with beta = 0 writes every element, so the buffer starts uninitialised.
  var values = [Float](unsafeUninitializedCapacity: rows * outFeatures) { _, n in n = rows * outFeatures }
  withOptionalValues(normWeight) { gamma in
    withOptionalValues(normBias) { beta in
      withOptionalValues(bias) { pb in
        x.scalars.withUnsafeBufferPointer { px in
          weight.scalars.withUnsafeBufferPointer { pw in
            mean.withUnsafeBufferPointer { pm in
              rstd.withUnsafeBufferPointer { pr in
                values.withUnsafeMutableBufferPointer { py in
                  // forward: Y[rows, out] = act(LN(X)[rows, in] · Wᵀ[in, out] + bias), LN(X) made panel by panel
                  sgemm(
                    .none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: px.baseAddress!, lda: inFeatures,
                    b: pw.baseAddress!, ldb: inFeatures, beta: 0, bias: pb,
                    prologue: .layerNorm(mean: pm.baseAddress!, rstd: pr.baseAddress!, gamma: gamma, beta: beta),
                    epilogue: activation == .gelu ? .geluErf : .none, c: py.baseAddress!, ldc: outFeatures)
                }
              }
            }
          }
        }
      }
    }
  }
  return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], scalars: values)
}

/// The composed reference: `layerNorm`, then `linear` or `linearGELU` (each the composed op
/// under autograd).
private func composedNormedLinear(
  _ x: Tensor, normWeight: Tensor?, normBias: Tensor?, eps: Float, weight: Tensor, bias: Tensor?, activation: LinearActivation
) -> Tensor {
  let normalized = layerNorm(x, weight: normWeight, bias: normBias, eps: eps)
  switch activation {
  case .none: return linear(normalized, weight: weight, bias: bias)
  case .gelu: return linearGELU(normalized, weight: weight, bias: bias)
  }
}

/// Each row's mean and `1/√(σ² + ε)` of `x` viewed as `[rows, channels]`, by
/// `layerNormRowStatistics` (the bits `layerNorm` normalises with), rows split across threads as
/// `layerNorm` splits them. O(rows · channels) time, O(rows) memory.
func layerNormStatistics(_ x: Tensor, rows: Int, channels c: Int, eps: Float) -> (mean: [Float], rstd: [Float]) {
  var rstd = [Float](repeating: 0, count: rows)
  let mean = x.scalars.withUnsafeBufferPointer { px in
    rstd.withUnsafeMutableBufferPointer { pr in
      makeBuffer(rows) { pm in
        forEachElementChunk(rows, minimumChunk: Swift.max(1, (1 << 14) / Swift.max(c, 1))) { rowRange in
          for r in rowRange { (pm[r], pr[r]) = layerNormRowStatistics(px.baseAddress! + r * c, count: c, eps: eps) }
        }
      }
    }
  }
  return (mean, rstd)
}
