import CVAKernels

// Linear layers with their next element-wise step in the GEMM's epilogue, for inference.

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

/// `residual + linear(x, weight, bias)` with the sum in the GEMM's epilogue: each block of the
/// output gets its residual added as the last depth slice finishes it, instead of a second
/// pass over the whole `[rows, out]` tensor and a second buffer (a transformer block's
/// `x + mlp(...)`). Bit for bit the composed `residual + linear(...)`: each element is the same
/// two operands of one addition.
///
/// Shapes: `x` is `[..., in]`, `weight` `[out, in]`, `bias` `[out]`, `residual` the output's
/// shape `[..., out]`. When gradients are recorded for any input, this is the composed sum (the
/// reference the fused pass is tested against). Complexity: O(rows · in · out).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, addingTo residual: Tensor) -> Tensor {
  let inputs = [x, weight, residual] + [bias].compactMap { $0 }
  if inputs.contains(where: \.requiresGrad) && GradientMode.isEnabled { return residual + linear(x, weight: weight, bias: bias) }
  precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
  let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 1 && x.shape.last == inFeatures, "linear input \(x.shape) must end in weight's in = \(inFeatures)")
  let outShape = Array(x.shape.dropLast()) + [outFeatures]
  precondition(residual.shape == outShape, "linear residual \(residual.shape) must be the output's \(outShape)")
  if let bias { precondition(bias.shape == [outFeatures], "linear bias \(bias.shape) != [\(outFeatures)]") }
  let rows = x.count / Swift.max(inFeatures, 1)
  guard rows > 0 && outFeatures > 0 && inFeatures > 0 else { return residual + linear(x, weight: weight, bias: bias) }
  var values = [Float](unsafeUninitializedCapacity: rows * outFeatures) { _, n in n = rows * outFeatures }
  withOptionalValues(bias) { pb in
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        residual.scalars.withUnsafeBufferPointer { pr in
          values.withUnsafeMutableBufferPointer { py in
            // forward: Y[rows, out] = X[rows, in] · Wᵀ[in, out] + bias, then Y += R
            sgemm(
              .none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: px.baseAddress!, lda: inFeatures,
              b: pw.baseAddress!, ldb: inFeatures, beta: 0, bias: pb, epilogue: .add(pr.baseAddress!, ld: outFeatures),
              c: py.baseAddress!, ldc: outFeatures)
          }
        }
      }
    }
  }
  return Tensor(shape: outShape, scalars: values)
}

/// Runs `body` with a pointer to `tensor`'s values, or nil without a tensor.
func withOptionalValues<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let tensor else { return body(nil) }
  return tensor.scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
}
