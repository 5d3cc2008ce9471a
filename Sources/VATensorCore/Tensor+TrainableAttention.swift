import CVAKernels

// Plain attention from a fused `qkv` projection with a fused backward, for training: the
// composed path (reshape, permute, chunk, two batched matmuls, scale, softmax, permute back)
// copies q, k, v, the scores and the merged heads forward and again backward, and records
// eight tape nodes per layer; this records one.

/// `fusedSelfAttentionOutput`'s forward with its weights kept, recorded with `attentionGradient`.
///
/// Shapes: `qkv` `[B, T, 3C]` (timm's column layout), `mask` `[T, T]`, `bias` `[heads, T, T]`;
/// returns `[B, T, C]`. The weights `P` (`[B·heads, T, T]`) are saved rather than recomputed
/// from row statistics as FlashAttention-2's backward does: at the token counts trained here
/// (T = 65 for patch-classify) `P` is 17 KB per head, and recomputing it would repeat the
/// score GEMM and the exponentials for no memory that matters.
/// - Precondition: `mask` and `bias` need no gradient.
func trainableSelfAttention(qkv: Tensor, heads: Int, mask: Tensor?, bias: Tensor?) -> Tensor {
  let g = AttentionGeometry(
    qkv: qkv, heads: heads, mask: mask, bias: bias, caller: "fusedSelfAttentionOutput", recordsBackward: true)
  precondition(
    !(mask?.requiresGrad ?? false) && !(bias?.requiresGrad ?? false),
    "fused attention's backward treats mask and bias as constants; use the composed path for a trained bias")
  let count = g.b * heads * g.t * g.t
  var weights = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
  let merged = weights.withUnsafeMutableBufferPointer { pw in
    attentionBlocks(g, qkv: qkv, mask: mask, bias: bias, weights: pw.baseAddress!, arena: .shared)
  }
  let (inputs, probabilities) = (qkv.scalars, weights)
  return Tensor.custom(shape: [g.b, g.t, g.c], scalars: merged, inputs: [qkv]) { outputGradient in
    [attentionGradient(g, qkv: inputs, probabilities: probabilities, outputGradient: outputGradient)]
  }
}

/// ∂L/∂qkv `[B, T, 3C]` of `out_h = softmax(Q_h K_hᵀ / √d + bias_h + mask) V_h`, given the
/// saved weights `P` `[B·heads, T, T]` and ∂L/∂out `[B, T, C]`. Per (image, head), with
/// `s = 1/√d` (Vaswani et al. 2017's scale; the softmax step as in Dao et al. 2022, Alg. 4):
///
///     dV = Pᵀ dO,   dP = dO Vᵀ,   dS = P ∘ (dP − rowsum(P ∘ dP)),   dQ = s·dS K,   dK = s·dSᵀ Q
///
/// Each of the four GEMMs writes its head's columns of the result once (beta = 0), so nothing
/// is zeroed or accumulated; work items are (image, head), one `T × T` scratch per thread.
/// Complexity: O(B·heads·T²·d).
private func attentionGradient(
  _ g: AttentionGeometry, qkv: [Float], probabilities: [Float], outputGradient: [Float]
) -> [Float] {
  let (b, t, c, d, heads) = (g.b, g.t, g.c, g.d, g.heads)
  guard b > 0, t > 0, d > 0 else { return [Float](repeating: 0, count: b * t * 3 * c) }
  let scale = 1 / Float(d).squareRoot()
  let items = b * heads, threads = Swift.max(1, Swift.min(ComputeThreads.count, items))
  return qkv.withUnsafeBufferPointer { pqkv in
    probabilities.withUnsafeBufferPointer { pp in
      outputGradient.withUnsafeBufferPointer { pdo in
        makeBuffer(b * t * 3 * c) { pg in
          concurrentChunks(threads) { worker in
            ScratchArena.shared.withBuffer(count: t * t) { dScores in
              for item in stride(from: worker, to: items, by: threads) {
                let h = item % heads, image = item / heads
                let tokens = pqkv.baseAddress! + image * t * 3 * c, grads = pg.baseAddress! + image * t * 3 * c
                let p = pp.baseAddress! + item * t * t, dOut = pdo.baseAddress! + image * t * c + h * d
                let (q, k, v) = (tokens + h * d, tokens + c + h * d, tokens + 2 * c + h * d)
                // dV_h[T, d] = Pᵀ[T, T] · dO_h[T, d]
                cva_sgemm(1, 0, t, d, t, 1, p, t, dOut, c, 0, grads + 2 * c + h * d, 3 * c)
                // dP[T, T] = dO_h[T, d] · V_hᵀ, then dS over it in place
                cva_sgemm(0, 1, t, t, d, 1, dOut, c, v, 3 * c, 0, dScores, t)
                cva_attention_softmax_backward_rows(p, t, dScores, t, t, t)
                // dQ_h = s · dS · K_h;  dK_h = s · dSᵀ · Q_h
                cva_sgemm(0, 0, t, d, t, scale, dScores, t, k, 3 * c, 0, grads + h * d, 3 * c)
                cva_sgemm(1, 0, t, d, t, scale, dScores, t, q, 3 * c, 0, grads + c + h * d, 3 * c)
              }
            }
          }
        }
      }
    }
  }
}
