import CVAKernels

/// Memory-efficient attention for inference, and attention rows recomputed on demand.
///
/// `tiledSelfAttention` is FlashAttention's algorithm (Dao et al. 2022) on a CPU: query rows in
/// blocks, keys in tiles, an online softmax, so a forward over T tokens holds O(T·C) values
/// and never a T×T matrix (`fusedSelfAttention` is the plain path it is tested against).
/// `attentionRows` and `forEachAttentionRowBlock` give the post-softmax rows themselves, a
/// few at a time, from saved queries and keys: what attention maps, rollout and attention
/// distance need without storing `[heads, T, T]` per layer.

/// Block sizes of `tiledSelfAttention`.
///
/// Defaults, for ViT heads of d = 64 on a core with 1 MiB of L2: 192 query rows (a multiple of
/// both GEMM micro-kernels' heights, 6 and 12) by 256 keys keeps the 192 KiB score tile, the
/// 48 KiB accumulator and the 64 KiB Kᵀ and V tiles in L2 together, and repacks each key
/// tile once per 192 queries. Measured at T = 3137 on Zen 4 (CPU time, one thread): 96, 192
/// and 384 rows by 256 or 512 keys lie within 6% of each other, 192 x 256 the fastest.
public struct AttentionTiles: Sendable, Equatable {
  /// Query rows per block (the online softmax's unit of work).
  public var queryRows: Int
  /// Keys per tile: the score tile is `queryRows × keys`.
  public var keys: Int

  /// Tiles of the given sizes, 192 × 256 by default.
  /// - Precondition: both are positive.
  public init(queryRows: Int = 192, keys: Int = 256) {
    precondition(queryRows > 0 && keys > 0, "attention tiles must be positive, got \(queryRows)x\(keys)")
    self.queryRows = queryRows
    self.keys = keys
  }

  /// 192 query rows by 256 keys (see above).
  public static let `default` = AttentionTiles()
}

/// Where each token's query and key sit in a row-major buffer of `tokens` rows.
///
/// Row `i` starts at `i · stride`; head `h`'s query is columns `h·d ..< (h+1)·d` and its key
/// `keyOffset + h·d ..< keyOffset + (h+1)·d`. A fused `qkv` projection `[T, 3C]` is
/// `stride = 3C, keyOffset = C` (timm's layout); saved queries and keys `[T, 2C]` are
/// `stride = 2C, keyOffset = C`.
public struct QueryKeyLayout: Sendable, Equatable {
  /// Rows in the buffer, `T`.
  public var tokens: Int
  /// Attention heads, `h`.
  public var heads: Int
  /// Channels per head, `d` (`C = h · d`).
  public var headDimension: Int
  /// Values from one row's start to the next's (`3C` for a fused `qkv`, `2C` for saved queries and
  /// keys).
  public var stride: Int
  /// Column where the keys start within a row (`C` in both layouts above).
  public var keyOffset: Int

  /// A layout over a buffer of `tokens` rows.
  /// - Precondition: heads and head dimension positive, and the keys neither overlap the queries
  ///   nor run past `stride`.
  public init(tokens: Int, heads: Int, headDimension: Int, stride: Int, keyOffset: Int) {
    precondition(tokens >= 0 && heads > 0 && headDimension > 0, "bad attention layout: \(tokens) tokens, \(heads) heads of \(headDimension)")
    precondition(
      keyOffset >= heads * headDimension && stride >= keyOffset + heads * headDimension,
      "keys at \(keyOffset) with row stride \(stride) overlap \(heads) heads of \(headDimension)")
    self.tokens = tokens
    self.heads = heads
    self.headDimension = headDimension
    self.stride = stride
    self.keyOffset = keyOffset
  }

  /// A fused `qkv` projection `[T, 3C]`, `C = heads · headDimension`.
  public static func fused(tokens: Int, heads: Int, headDimension: Int) -> QueryKeyLayout {
    let c = heads * headDimension
    return QueryKeyLayout(tokens: tokens, heads: heads, headDimension: headDimension, stride: 3 * c, keyOffset: c)
  }

  /// Queries then keys, `[T, 2C]`.
  public static func compact(tokens: Int, heads: Int, headDimension: Int) -> QueryKeyLayout {
    let c = heads * headDimension
    return QueryKeyLayout(tokens: tokens, heads: heads, headDimension: headDimension, stride: 2 * c, keyOffset: c)
  }

  /// Elements a buffer in this layout holds.
  public var count: Int { tokens * stride }
}

/// Checks an additive attention bias: `[T, T]` shared by every head, or `[heads, T, T]`.
/// Returns the element distance between heads' blocks (0 when shared).
private func biasHeadStride(_ bias: Tensor?, tokens t: Int, heads: Int) -> Int {
  guard let bias else { return 0 }
  precondition(
    bias.shape == [t, t] || bias.shape == [heads, t, t],
    "attention bias \(bias.shape) must be [\(t), \(t)] or [\(heads), \(t), \(t)]")
  return bias.rank == 3 ? t * t : 0
}

/// Runs `body` with the bias's elements, or nil.
private func withBias<R>(_ bias: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let bias else { return body(nil) }
  return bias.scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Multi-head attention over a fused `qkv` projection without forming the attention matrix.
///
/// Shapes: `qkv` is `[B, T, 3C]` (timm's layout, as in `fusedSelfAttention`); `bias` is an
/// additive `[T, T]` (an attention mask: 0 keep, −∞ drop) or per-head `[heads, T, T]` (a
/// relative-position bias), shared by the batch, or nil. Returns the merged heads `[B, T, C]`,
/// equal to `fusedSelfAttention(qkv:heads:mask:).output` up to float rounding.
/// Per block of `tiles.queryRows` queries of one head, keys are visited `tiles.keys` at a
/// time with a running maximum and sum (`cva_attention_rows`); blocks are shared out across
/// `ComputeThreads.count` threads.
/// Complexity: O(B·heads·T²·d) time, O(B·T·C) memory plus one score tile per thread.
/// - Precondition: no gradient recording is needed for `qkv`.
public func tiledSelfAttention(qkv: Tensor, heads: Int, bias: Tensor? = nil, tiles: AttentionTiles = .default) -> Tensor {
  precondition(
    qkv.rank == 3 && heads > 0 && qkv.shape[2] % (3 * heads) == 0,
    "tiledSelfAttention needs qkv [B, T, 3C] with C divisible by heads \(heads), got \(qkv.shape)")
  precondition(!(qkv.requiresGrad && GradientMode.isEnabled), "tiledSelfAttention records no backward; use the composed path")
  let (b, t, c) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
  let d = c / heads
  let headStride = biasHeadStride(bias, tokens: t, heads: heads)
  guard b > 0, t > 0, d > 0 else { return Tensor(shape: [b, t, c], scalars: [Float](repeating: 0, count: b * t * c)) }
  let blockRows = Swift.min(tiles.queryRows, t), keyTile = tiles.keys
  let blocks = (t + blockRows - 1) / blockRows
  let items = b * heads * blocks
  let threads = Swift.max(1, Swift.min(ComputeThreads.count, items))
  let scale = 1 / Float(d).squareRoot()
  let scratchCount = cva_attention_scratch(blockRows, d, keyTile)
  // Every head's keys transposed once, Kᵀ [d, T] per (batch, head): each query block's GEMM
  // then reads key tiles by rows. It and each thread's score tile are arena buffers, so a
  // second forward of the same sizes allocates only its output.
  let merged = ScratchArena.shared.withBuffer(count: b * t * c) { ktBase in
    qkv.scalars.withUnsafeBufferPointer { pqkv in
      let base = pqkv.baseAddress!
      concurrentChunks(Swift.min(threads, b * heads)) { worker in
        for index in stride(from: worker, to: b * heads, by: Swift.min(threads, b * heads)) {
          let bi = index / heads, h = index % heads
          let src = base + bi * t * 3 * c + c + h * d, dst = ktBase + index * d * t
          for j in 0..<t {
            for e in 0..<d { dst[e * t + j] = src[j * 3 * c + e] }
          }
        }
      }
      return withBias(bias) { pbias in
        makeBuffer(b * t * c) { out in
          let outBase = out.baseAddress!
          concurrentChunks(threads) { worker in
            ScratchArena.shared.withBuffer(count: scratchCount) { scratch in
              // Items run batch-major, then head, then query block; each writes only its own
              // rows and head columns of the output.
              for item in stride(from: worker, to: items, by: threads) {
                let block = item % blocks, h = item / blocks % heads, bi = item / (blocks * heads)
                let row0 = block * blockRows, rows = Swift.min(blockRows, t - row0)
                let tokens = base + bi * t * 3 * c
                let q = tokens + row0 * 3 * c + h * d
                let kt = ktBase + (bi * heads + h) * d * t, v = tokens + 2 * c + h * d
                let biasRows = pbias.map { $0 + h * headStride + row0 * t }
                cva_attention_rows(
                  rows, t, d, scale, q, 3 * c, kt, t, v, 3 * c, biasRows, t,
                  outBase + (bi * t + row0) * c + h * d, c, keyTile, scratch)
              }
            }
          }
        }
      }
    }
  }
  return Tensor(shape: [b, t, c], scalars: merged)
}

/// Post-softmax attention rows of the query tokens `rows`, for every head: `[heads, R, T]`,
/// row `r` of head `h` equal to row `rows[r]` of `softmax(Q_h K_hᵀ / √d + bias_h)`.
///
/// `queriesKeys` holds one sequence in `layout`; `bias` is `[T, T]` or `[heads, T, T]` or nil.
/// Complexity: O(heads·R·T·d) time, O(heads·R·T) memory.
public func attentionRows(queriesKeys: [Float], layout: QueryKeyLayout, rows: [Int], bias: Tensor? = nil) -> [Float] {
  precondition(queriesKeys.count == layout.count, "\(queriesKeys.count) values do not fill \(layout)")
  let t = layout.tokens, h = layout.heads
  precondition(rows.allSatisfy { (0..<t).contains($0) }, "attention rows \(rows) outside 0..<\(t)")
  let headStride = biasHeadStride(bias, tokens: t, heads: h)
  let r = rows.count
  return queriesKeys.withUnsafeBufferPointer { pqk in
    withBias(bias) { pbias in
      makeBuffer(h * r * t) { out in
        guard r > 0, t > 0 else { return }
        for head in 0..<h {
          rowBlock(
            pqk.baseAddress!, layout, head: head, rows: rows, bias: pbias.map { $0 + head * headStride },
            out: out.baseAddress! + head * r * t)
        }
      }
    }
  }
}

/// Visits every row of every head's attention matrix, `blockRows` query tokens at a time:
/// `body(range, weights)` gets the post-softmax rows `range` of every head as `[heads,
/// range.count, T]`, valid during the call. Blocks come in order; heads are computed in
/// parallel and `body` runs on the caller's thread.
///
/// What rollout and mean attention distance need without a `[heads, T, T]` per layer.
/// Complexity: O(heads·T²·d) time, O(heads·blockRows·T) memory.
public func forEachAttentionRowBlock(
  queriesKeys: [Float], layout: QueryKeyLayout, bias: Tensor? = nil, blockRows: Int = 32,
  _ body: (Range<Int>, UnsafeBufferPointer<Float>) -> Void
) {
  precondition(queriesKeys.count == layout.count, "\(queriesKeys.count) values do not fill \(layout)")
  precondition(blockRows > 0, "blockRows must be positive, got \(blockRows)")
  let t = layout.tokens, h = layout.heads
  let headStride = biasHeadStride(bias, tokens: t, heads: h)
  guard t > 0 else { return }
  let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: h * Swift.min(blockRows, t) * t)
  defer { buffer.deallocate() }
  queriesKeys.withUnsafeBufferPointer { pqk in
    withBias(bias) { pbias in
      for start in stride(from: 0, to: t, by: blockRows) {
        let range = start..<Swift.min(t, start + blockRows)
        let rows = Array(range)
        parallelFor(h) { head in
          rowBlock(
            pqk.baseAddress!, layout, head: head, rows: rows, bias: pbias.map { $0 + head * headStride },
            out: buffer.baseAddress! + head * rows.count * t)
        }
        body(range, UnsafeBufferPointer(rebasing: buffer[0..<(h * rows.count * t)]))
      }
    }
  }
}

/// Rows `rows` of one head's attention, `[R, T]` at `out`: the queries gathered, one GEMM
/// against every key, the bias rows added, a softmax per row.
private func rowBlock(
  _ qk: UnsafePointer<Float>, _ layout: QueryKeyLayout, head: Int, rows: [Int], bias: UnsafePointer<Float>?,
  out: UnsafeMutablePointer<Float>
) {
  let t = layout.tokens, d = layout.headDimension, r = rows.count
  let queries = UnsafeMutablePointer<Float>.allocate(capacity: r * d)
  defer { queries.deallocate() }
  for (i, token) in rows.enumerated() {
    queries.advanced(by: i * d).update(from: qk + token * layout.stride + head * d, count: d)
  }
  sgemm(
    .none, .transposed, m: r, n: t, k: d, alpha: 1 / Float(d).squareRoot(), a: queries, lda: d,
    b: qk + layout.keyOffset + head * d, ldb: layout.stride, c: out, ldc: t)
  if let bias {
    for (i, token) in rows.enumerated() {
      let row = out + i * t, b = bias + token * t
      for j in 0..<t { row[j] += b[j] }
    }
  }
  softmaxRowsInPlace(out, rows: r, cols: t, mask: nil)
}
