/// The fused affine map of `nn.Linear`, forward and backward: one GEMM whose micro-kernels add
/// the bias as they store the product, so no separate fill or broadcast-add pass over the output.

/// Affine map `x · weightᵀ + bias` in PyTorch's `nn.Linear` layout.
///
/// Shapes: `x` is `[..., in]`, `weight` is `[out, in]`, `bias` is `[out]`; the result is `[..., out]`.
/// Method: `sgemm(beta: 0, bias:)` writes `x · weightᵀ + bias` into an uninitialised buffer (the
/// bias rides in the micro-kernels' stores). Complexity: O(rows · in · out) in one GEMM.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
  precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
  let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 1 && x.shape.last == inFeatures, "linear input \(x.shape) must end in weight's in = \(inFeatures)")
  if let bias { precondition(bias.shape == [outFeatures], "linear bias \(bias.shape) != [\(outFeatures)]") }
  let rows = x.count / Swift.max(inFeatures, 1)
  var values: [Float]
  if rows > 0 && outFeatures > 0 && inFeatures > 0 {
    // sgemm with beta = 0 writes every element, so the buffer starts uninitialised.
    values = [Float](unsafeUninitializedCapacity: rows * outFeatures) { _, n in n = rows * outFeatures }
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        values.withUnsafeMutableBufferPointer { py in
          withBiasPointer(bias) { pb in
            // forward: Y[rows, out] = X[rows, in] · Wᵀ[in, out] + bias
            sgemm(
              .none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: px.baseAddress!, lda: inFeatures,
              b: pw.baseAddress!, ldb: inFeatures, beta: 0, bias: pb, c: py.baseAddress!, ldc: outFeatures)
          }
        }
      }
    }
  } else {  // an empty product: the output is the bias rows (or zeros)
    let row = bias?.scalars ?? [Float](repeating: 0, count: outFeatures)
    values = [Float]((0..<rows).map { _ in row }.joined())
  }
  let out = Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], scalars: values)
  let inputs = [x, weight] + [bias].compactMap { $0 }
  guard inputs.contains(where: \.requiresGrad) && GradientMode.isEnabled else { return out }
  let xValues = x.scalars, wValues = weight.scalars
  let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
  return out.recording(inputs) { g in
    // A non-empty product's sgemm (beta = 0) writes every element: no zero-fill needed then.
    let product = rows > 0 && outFeatures > 0 && inFeatures > 0
    func gradientBuffer(_ n: Int) -> [Float] { product ? makeBuffer(n) { _ in } : [Float](repeating: 0, count: n) }
    var dx: [Float]? = needX ? gradientBuffer(xValues.count) : nil
    var dw: [Float]? = needW ? gradientBuffer(wValues.count) : nil
    if product {
      g.withUnsafeBufferPointer { pg in
        if needX {
          // forward: Y = X · Wᵀ  ->  dX[rows, in] = dY[rows, out] · W[out, in]
          wValues.withUnsafeBufferPointer { pw in
            dx!.withUnsafeMutableBufferPointer { pdx in
              sgemm(
                .none, .none, m: rows, n: inFeatures, k: outFeatures, a: pg.baseAddress!, lda: outFeatures,
                b: pw.baseAddress!, ldb: inFeatures, c: pdx.baseAddress!, ldc: inFeatures)
            }
          }
        }
        if needW {
          // forward: Y = X · Wᵀ  ->  dW[out, in] = dYᵀ[out, rows] · X[rows, in]
          xValues.withUnsafeBufferPointer { px in
            dw!.withUnsafeMutableBufferPointer { pdw in
              sgemm(
                .transposed, .none, m: outFeatures, n: inFeatures, k: rows, a: pg.baseAddress!, lda: outFeatures,
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

/// Runs `body` with a pointer to `bias`'s values, or nil without a bias.
private func withBiasPointer<R>(_ bias: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let bias else { return body(nil) }
  return bias.scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
}
