import CVAKernels

/// Scaled dot-product attention read straight from a fused `qkv` projection, for inference.
///
/// The composed path (`reshaped`, `permuted`, `chunked`, two `matmul`s, a scale, `softmax`,
/// another `permuted`) copies q, k, v and the merged heads once each and makes two passes over
/// the scores; here every head's GEMM reads its q, k, v columns in place (row stride 3C) and
/// writes its output columns in place (row stride C), the scale rides in the GEMM's alpha and
/// the softmax runs in place on each block of rows just written, so the recorded weights are
/// the scores' own buffer. It records no backward node, so it is only for callers that do
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
/// one pass: per block of query rows of one head, a score GEMM (scale in its alpha), the
/// softmax of those rows while in cache, and the value GEMM; blocks shared out across
/// `ComputeThreads.count` threads.
/// - Precondition: no gradient recording is needed for `qkv` (see `shouldRecord`).
public func fusedSelfAttention(qkv: Tensor, heads: Int, mask: Tensor? = nil, bias: Tensor? = nil) -> (output: Tensor, weights: Tensor) {
  let g = AttentionGeometry(qkv: qkv, heads: heads, mask: mask, bias: bias, caller: "fusedSelfAttention")
  // The weights are written once, by the score GEMM, and normalised in place: the returned
  // record is that buffer, with no copy.
  var weights = [Float](unsafeUninitializedCapacity: g.b * heads * g.t * g.t) { _, n in n = g.b * heads * g.t * g.t }
  let merged = weights.withUnsafeMutableBufferPointer { pw in
    attentionBlocks(g, qkv: qkv, mask: mask, bias: bias, weights: pw.baseAddress!, arena: .shared)
  }
  return (Tensor(shape: [g.b, g.t, g.c], scalars: merged), Tensor(shape: [g.b * heads, g.t, g.t], scalars: weights))
}

/// The merged heads of `fusedSelfAttention(qkv:heads:mask:bias:)` without its weights, bit for
/// bit: each thread's block of scores lives in a buffer of `arena`, reused by every later
/// call, so no `[B·heads, T, T]` is allocated or written. Shapes as there.
/// Memory: `[B, T, C]` plus one `blockRows × T` score block per thread.
///
/// When gradients are recorded for `qkv`, the same forward keeps its weights and records the
/// fused backward of `attentionGradient` (mask and bias are constants there: a bias that
/// requires a gradient needs the composed path). Training memory: `[B·heads, T, T]` weights.
public func fusedSelfAttentionOutput(
  qkv: Tensor, heads: Int, mask: Tensor? = nil, bias: Tensor? = nil, arena: ScratchArena = .shared
) -> Tensor {
  if qkv.requiresGrad && GradientMode.isEnabled { return trainableSelfAttention(qkv: qkv, heads: heads, mask: mask, bias: bias) }
  let g = AttentionGeometry(qkv: qkv, heads: heads, mask: mask, bias: bias, caller: "fusedSelfAttentionOutput")
  return Tensor(shape: [g.b, g.t, g.c], scalars: attentionBlocks(g, qkv: qkv, mask: mask, bias: bias, weights: nil, arena: arena))
}

/// Sizes of one plain attention call and how its work splits.
struct AttentionGeometry {
  var b: Int, t: Int, c: Int, d: Int, heads: Int
  /// Query rows per work item: a few micro-kernel tiles, so a block's scores stay in cache
  /// from the GEMM that writes them through the softmax to the GEMM that reads them.
  var blockRows: Int { Swift.min(t, 4 * SGEMMKernel.chosen.tile.rows) }
  var blocks: Int { blockRows == 0 ? 0 : (t + blockRows - 1) / blockRows }

  init(qkv: Tensor, heads: Int, mask: Tensor?, bias: Tensor?, caller: String, recordsBackward: Bool = false) {
    precondition(
      qkv.rank == 3 && heads > 0 && qkv.shape[2] % (3 * heads) == 0,
      "\(caller) needs qkv [B, T, 3C] with C divisible by heads \(heads), got \(qkv.shape)")
    precondition(
      recordsBackward || !(qkv.requiresGrad && GradientMode.isEnabled), "\(caller) records no backward; use the composed path")
    (b, t, c) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
    (d, self.heads) = (c / heads, heads)
    if let mask { precondition(mask.shape == [t, t], "attention mask \(mask.shape) must be [\(t), \(t)]") }
    if let bias { precondition(bias.shape == [heads, t, t], "attention bias \(bias.shape) must be [\(heads), \(t), \(t)]") }
  }
}

/// The merged heads `[B, T, C]`, and the weights into `weights` (`[B·heads, T, T]`) when it is
/// given, else into per-thread scratch. Work items are (image, head, block of query rows),
/// so ViT-Ti's 3 heads still keep every thread busy.
func attentionBlocks(
  _ g: AttentionGeometry, qkv: Tensor, mask: Tensor?, bias: Tensor?, weights: UnsafeMutablePointer<Float>?,
  arena: ScratchArena
) -> [Float] {
  let (b, t, c, d, heads) = (g.b, g.t, g.c, g.d, g.heads)
  guard b > 0, t > 0, d > 0 else {
    weights?.initialize(repeating: 0, count: b * heads * t * t)
    return [Float](repeating: 0, count: b * t * c)
  }
  let scale = 1 / Float(d).squareRoot()
  let blockRows = g.blockRows, blocks = g.blocks, items = b * heads * blocks
  let threads = Swift.max(1, Swift.min(ComputeThreads.count, items))
  return qkv.scalars.withUnsafeBufferPointer { pqkv in
    withOptionalScalars(bias) { pbias in
      withOptionalScalars(mask) { pmask in
        makeBuffer(b * t * c) { po in
          let base = pqkv.baseAddress!, outBase = po.baseAddress!
          concurrentChunks(threads) { worker in
            // Each item's scores: its rows of the recorded weights, or this thread's block.
            func run(_ scoresOf: (_ item: Int, _ row0: Int) -> UnsafeMutablePointer<Float>) {
              for item in stride(from: worker, to: items, by: threads) {
                let block = item % blocks, h = item / blocks % heads, bi = item / (blocks * heads)
                let row0 = block * blockRows, rows = Swift.min(blockRows, t - row0)
                let tokens = base + bi * t * 3 * c
                let scores = scoresOf(item, row0)
                // S[rows, T] = (1/√d) · Q_h[rows, d] · K_h[T, d]ᵀ, read in place (row stride 3C);
                // beta = 0 overwrites, so the uninitialised buffer is never read.
                cva_sgemm(0, 1, rows, t, d, scale, tokens + row0 * 3 * c + h * d, 3 * c, tokens + c + h * d, 3 * c, 0, scores, t)
                cva_attention_softmax_rows(
                  scores, rows, t, t, pbias.map { $0 + (h * t + row0) * t }, t, pmask.map { $0 + row0 * t }, t)
                // out_h[rows, d] = A[rows, T] · V_h[T, d], into columns h·d..<(h+1)·d of [T, C].
                cva_sgemm(
                  0, 0, rows, d, t, 1, scores, t, tokens + 2 * c + h * d, 3 * c, 0, outBase + (bi * t + row0) * c + h * d, c)
              }
            }
            if let weights {
              run { item, row0 in weights + (item / blocks * t + row0) * t }
            } else {
              arena.withBuffer(count: blockRows * t) { scratch in run { _, _ in scratch } }
            }
          }
        }
      }
    }
  }
}

/// Runs `body` with the tensor's elements, or nil.
private func withOptionalScalars<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let tensor else { return body(nil) }
  return tensor.scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
}
