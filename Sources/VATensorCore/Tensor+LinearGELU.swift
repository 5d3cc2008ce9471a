import CVAKernels

/// `gelu(linear(x, weight, bias))` with GELU's exact form in the GEMM's epilogue: each block of
/// the output gets its GELU as the last depth slice finishes it, while it is still in cache,
/// instead of a second pass over the whole `[rows, out]` tensor (timm's `Mlp.fc1` then `act`).
///
/// Shapes: `x` is `[..., in]`, `weight` is `[out, in]`, `bias` is `[out]`; the result is
/// `[..., out]`. When gradients are recorded for any input, this is the composed
/// `gelu(linear(...))` (its backward needs the pre-activation, which the fused pass never
/// stores); the composed path is also the reference this one is tested against (equal within
/// the vectorised erf's 1.5e-7, see `SGEMMEpilogue.geluErf`). Complexity: O(rows · in · out).
public func linearGELU(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
  let inputs = [x, weight] + [bias].compactMap { $0 }
  if inputs.contains(where: \.requiresGrad) && GradientMode.isEnabled {
    return gelu(linear(x, weight: weight, bias: bias), approximation: .exact)
  }
  precondition(weight.rank == 2, "linearGELU weight must be [out, in], got \(weight.shape)")
  let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 1 && x.shape.last == inFeatures, "linearGELU input \(x.shape) must end in weight's in = \(inFeatures)")
  if let bias { precondition(bias.shape == [outFeatures], "linearGELU bias \(bias.shape) != [\(outFeatures)]") }
  let rows = x.count / Swift.max(inFeatures, 1)
  guard rows > 0 && outFeatures > 0 && inFeatures > 0 else { return gelu(linear(x, weight: weight, bias: bias), approximation: .exact) }
  // sgemm with beta = 0 writes every element, so the buffer starts uninitialised.
  var values = [Float](unsafeUninitializedCapacity: rows * outFeatures) { _, n in n = rows * outFeatures }
  withOptionalValues(bias) { pb in
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        values.withUnsafeMutableBufferPointer { py in
          // forward: Y[rows, out] = GELU(X[rows, in] · Wᵀ[in, out] + bias)
          sgemm(
            .none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: px.baseAddress!, lda: inFeatures,
            b: pw.baseAddress!, ldb: inFeatures, beta: 0, bias: pb, epilogue: .geluErf, c: py.baseAddress!, ldc: outFeatures)
        }
      }
    }
  }
  return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], scalars: values)
}

/// Runs `body` with a pointer to `tensor`'s values, or nil without a tensor.
private func withOptionalValues<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let tensor else { return body(nil) }
  return tensor.scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
}
