/// The fused affine map of `nn.Linear`, forward and backward: one GEMM that accumulates onto the
/// bias rows, so no separate broadcast-add pass over the output.

/// Affine map `x · weightᵀ + bias` in PyTorch's `nn.Linear` layout.
///
/// Shapes: `x` is `[..., in]`, `weight` is `[out, in]`, `bias` is `[out]`; the result is `[..., out]`.
/// Method: the output is pre-filled with the bias rows and `sgemm(beta: 1)` adds `x · weightᵀ` onto
/// it. Complexity: O(rows · in · out) in one GEMM, plus O(rows · out) for the bias fill.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
  precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
  let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 1 && x.shape.last == inFeatures, "linear input \(x.shape) must end in weight's in = \(inFeatures)")
  if let bias { precondition(bias.shape == [outFeatures], "linear bias \(bias.shape) != [\(outFeatures)]") }
  let rows = x.count / Swift.max(inFeatures, 1)
  var values: [Float]
  if let bias {
    values = [Float](unsafeUninitializedCapacity: rows * outFeatures) { buffer, initialized in
      bias.scalars.withUnsafeBufferPointer { b in
        for r in 0..<rows { (buffer.baseAddress! + r * outFeatures).initialize(from: b.baseAddress!, count: outFeatures) }
      }
      initialized = rows * outFeatures
    }
  } else {
    values = [Float](repeating: 0, count: rows * outFeatures)
  }
  if rows > 0 && outFeatures > 0 && inFeatures > 0 {
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        values.withUnsafeMutableBufferPointer { py in
          // forward: Y[rows, out] = bias + X[rows, in] · Wᵀ[in, out]
          sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: px.baseAddress!, lda: inFeatures,
                b: pw.baseAddress!, ldb: inFeatures, beta: 1, c: py.baseAddress!, ldc: outFeatures)
        }
      }
    }
  }
  let out = Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], scalars: values)
  let inputs = [x, weight] + [bias].compactMap { $0 }
  guard inputs.contains(where: \.requiresGrad) && GradientMode.isEnabled else { return out }
  let xValues = x.scalars, wValues = weight.scalars
  let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
  return out.recording(inputs) { g in
    var dx: [Float]? = needX ? [Float](repeating: 0, count: xValues.count) : nil
    var dw: [Float]? = needW ? [Float](repeating: 0, count: wValues.count) : nil
    if rows > 0 && outFeatures > 0 && inFeatures > 0 {
      g.withUnsafeBufferPointer { pg in
        if needX {
          // forward: Y = X · Wᵀ  ->  dX[rows, in] = dY[rows, out] · W[out, in]
          wValues.withUnsafeBufferPointer { pw in
            dx!.withUnsafeMutableBufferPointer { pdx in
              sgemm(.none, .none, m: rows, n: inFeatures, k: outFeatures, a: pg.baseAddress!, lda: outFeatures,
                    b: pw.baseAddress!, ldb: inFeatures, c: pdx.baseAddress!, ldc: inFeatures)
            }
          }
        }
        if needW {
          // forward: Y = X · Wᵀ  ->  dW[out, in] = dYᵀ[out, rows] · X[rows, in]
          xValues.withUnsafeBufferPointer { px in
            dw!.withUnsafeMutableBufferPointer { pdw in
              sgemm(.transposed, .none, m: outFeatures, n: inFeatures, k: rows, a: pg.baseAddress!, lda: outFeatures,
                    b: px.baseAddress!, ldb: inFeatures, c: pdw.baseAddress!, ldc: inFeatures)
            }
          }
        }
      }
    }
    var grads: [[Float]?] = [dx, dw]
    if bias != nil {
      // forward: Y[r, :] += bias  ->  dbias = Σ_rows dY[r, :]
      grads.append(needB ? reduceToShape(g, from: [rows, outFeatures], to: [outFeatures]) : nil)
    }
    return grads
  }
}

/// `linear` composed from unfused ops (`matmul` then a broadcast add): the reference the fused
/// path is tested against.
public func linearReference(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
  let lifted = x.rank == 1 ? x.reshaped([1, x.shape[0]]) : x
  var y = matmul(lifted, weight, transposeB: true)
  if let bias { y = y + bias }
  return x.rank == 1 ? y.reshaped([weight.shape[0]]) : y
}
