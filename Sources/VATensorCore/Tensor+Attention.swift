/// Scaled dot-product attention read straight from a fused `qkv` projection, for inference.
///
/// The composed path (`reshaped`, `permuted`, `chunked`, two `matmul`s, a scale, `softmax`,
/// another `permuted`) copies q, k, v and the merged heads once each and makes two passes over
/// the scores; here every head's GEMM reads its q, k, v columns in place (row stride 3C) and
/// writes its output columns in place (row stride C), the scale rides in the GEMM's alpha and
/// the softmax runs in place. It records no backward node, so it is only for callers that do
/// not need one (`MultiHeadSelfAttention` keeps the composed path, its reference, for autograd).

/// Multi-head attention over the output of a fused `qkv` projection, with no autograd.
///
/// Shapes: `qkv` is `[B, T, 3C]` with columns ordered q, k, v and each split head-major
/// (timm's `Attention` layout: column `s·C + h·d + i` is part `s`, head `h`, channel `i`),
/// `C = heads · d`; `mask` is an additive `[T, T]` (0 keep, −∞ drop) or nil; `bias` is an
/// additive per-head `[heads, T, T]` (BEiT's relative position bias) or nil. Returns the
/// merged heads `[B, T, C]` (head-major channels, ready for the output projection) and the
/// post-softmax weights `[B·heads, T, T]`.
/// Per head: `A = softmax(Q Kᵀ / √d + bias_h + mask)`, `out = A V`. Complexity: O(B·heads·T²·d) in
/// 2·B·heads strided GEMMs plus one in-place softmax pass over the scores.
/// - Precondition: no gradient recording is needed for `qkv` (see `shouldRecord`).
public func fusedSelfAttention(qkv: Tensor, heads: Int, mask: Tensor? = nil, bias: Tensor? = nil) -> (output: Tensor, weights: Tensor) {
  precondition(
    qkv.rank == 3 && heads > 0 && qkv.shape[2] % (3 * heads) == 0,
    "fusedSelfAttention needs qkv [B, T, 3C] with C divisible by heads \(heads), got \(qkv.shape)")
  precondition(!(qkv.requiresGrad && GradientMode.isEnabled), "fusedSelfAttention records no backward; use the composed path")
  let (b, t, c) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
  let d = c / heads
  if let mask { precondition(mask.shape == [t, t], "attention mask \(mask.shape) must be [\(t), \(t)]") }
  if let bias { precondition(bias.shape == [heads, t, t], "attention bias \(bias.shape) must be [\(heads), \(t), \(t)]") }
  let scale = 1 / Float(d).squareRoot()
  var headsOffsets: [(a: Int, b: Int, c: Int)] = [], valueOffsets: [(a: Int, b: Int, c: Int)] = []
  for bi in 0..<b {
    for h in 0..<heads {
      let row = bi * t * 3 * c, weights = (bi * heads + h) * t * t
      headsOffsets.append((row + h * d, row + c + h * d, weights))  // Q_h, K_h, S_h
      valueOffsets.append((weights, row + 2 * c + h * d, bi * t * c + h * d))  // A_h, V_h, out_h
    }
  }
  var weights = [Float](unsafeUninitializedCapacity: b * heads * t * t) { _, n in n = b * heads * t * t }
  var merged = [Float](unsafeUninitializedCapacity: b * t * c) { _, n in n = b * t * c }
  guard t > 0, d > 0 else {
    return (Tensor(shape: [b, t, c], scalars: [Float](repeating: 0, count: b * t * c)), Tensor(shape: [b * heads, t, t], scalars: weights))
  }
  qkv.scalars.withUnsafeBufferPointer { pqkv in
    let base = pqkv.baseAddress!
    weights.withUnsafeMutableBufferPointer { pw in
      // S_h[T, T] = (1/√d) · Q_h[T, d] · K_h[T, d]ᵀ, Q_h and K_h read in place (row stride 3C).
      // sgemm with beta = 0 overwrites C, so the uninitialised buffers are never read.
      sgemmBatched(
        .none, .transposed, m: t, n: t, k: d, alpha: scale, a: base, lda: 3 * c, b: base, ldb: 3 * c,
        c: pw.baseAddress!, ldc: t, offsets: headsOffsets)
      if let bias {
        // S_h += bias_h before the softmax, for every image of the batch.
        bias.scalars.withUnsafeBufferPointer { pb in
          for bi in 0..<b {
            let scores = pw.baseAddress! + bi * heads * t * t
            for i in 0..<(heads * t * t) { scores[i] += pb[i] }
          }
        }
      }
      softmaxRowsInPlace(pw.baseAddress!, rows: b * heads * t, cols: t, mask: mask?.scalars)
      merged.withUnsafeMutableBufferPointer { po in
        // out_h[T, d] = A_h[T, T] · V_h[T, d], written into columns h·d..<(h+1)·d of [T, C].
        sgemmBatched(
          .none, .none, m: t, n: d, k: t, a: UnsafePointer(pw.baseAddress!), lda: t, b: base, ldb: 3 * c,
          c: po.baseAddress!, ldc: c, offsets: valueOffsets)
      }
    }
  }
  return (Tensor(shape: [b, t, c], scalars: merged), Tensor(shape: [b * heads, t, t], scalars: weights))
}
