/// Matrix products routed through `sgemm`: `matmul` (with leading batch dims and transposes)
/// and `linear`, forward and backward, plus the naive reference the tests compare against.

/// Batch bookkeeping shared by the forward and backward passes of `matmul`.
private struct MatmulPlan {
  var m = 0, n = 0, k = 0
  var outShape: [Int] = []
  /// Element offsets of each batch's A, B and C matrices (broadcast batch dims repeat offsets).
  var offsets: [(a: Int, b: Int, c: Int)] = []
  /// `true` when B is one shared matrix and A is not transposed, so all batches fold into one
  /// `[batch·M, K] x [K, N]` GEMM (every Linear layer takes this path).
  var foldsBatch = false

  init(_ a: [Int], _ b: [Int], transposeA: Bool, transposeB: Bool) {
    precondition(a.count >= 2 && b.count >= 2, "matmul needs rank >= 2 operands, got \(a) and \(b)")
    let (ra, ca) = (a[a.count - 2], a[a.count - 1]), (rb, cb) = (b[b.count - 2], b[b.count - 1])
    m = transposeA ? ca : ra
    k = transposeA ? ra : ca
    let kb = transposeB ? cb : rb
    n = transposeB ? rb : cb
    precondition(k == kb, "matmul inner dimensions differ: \(a)\(transposeA ? "ᵀ" : "") x \(b)\(transposeB ? "ᵀ" : "") (\(k) vs \(kb))")
    let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
    let batch = broadcastShapes(batchA, batchB)
    outShape = batch + [m, n]
    foldsBatch = batchB.allSatisfy { $0 == 1 } && !transposeA && batch == batchA
    let sa = broadcastStrides(batchA, to: batch).map { $0 * m * k }
    let sb = broadcastStrides(batchB, to: batch).map { $0 * k * n }
    var offsets: [(Int, Int, Int)] = []
    offsets.reserveCapacity(batch.reduce(1, *))
    forEachIndex(batch, sa, sb) { i, oa, ob in offsets.append((oa, ob, i * m * n)) }
    self.offsets = offsets
  }
}

/// Matrix product over the last two axes, broadcasting leading batch axes.
///
/// Shapes: `a` is `[..., M, K]` (`[..., K, M]` when `transposeA`), `b` is `[..., K, N]`
/// (`[..., N, K]` when `transposeB`); the result is `[broadcast(...), M, N]`.
/// Complexity: O(batch · M · N · K) through `sgemm`; a rank-2 `b` with untransposed `a` runs as a
/// single GEMM. Matches `torch.matmul` (with `.mT` for the transposes) for rank >= 2.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
  let plan = MatmulPlan(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
  let (m, n, k) = (plan.m, plan.n, plan.k)
  let lda = transposeA ? m : k, ldb = transposeB ? k : n
  let ta: MatrixTranspose = transposeA ? .transposed : .none
  let tb: MatrixTranspose = transposeB ? .transposed : .none
  let total = plan.outShape.reduce(1, *)
  let values = a.scalars.withUnsafeBufferPointer { pa in
    b.scalars.withUnsafeBufferPointer { pb in
      // sgemm with beta = 0 writes every element of a non-empty product; an empty K leaves
      // the output untouched, so only then is it zero-filled.
      guard total > 0, k > 0 else { return [Float](repeating: 0, count: total) }
      var c = makeBuffer(total) { _ in }
      c.withUnsafeMutableBufferPointer { pc in
        if plan.foldsBatch {
          sgemm(
            .none, tb, m: plan.offsets.count * m, n: n, k: k, a: pa.baseAddress!, lda: lda,
            b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: n)
        } else {
          sgemmBatched(
            ta, tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
            c: pc.baseAddress!, ldc: n, offsets: plan.offsets.map { ($0.a, $0.b, $0.c) })
        }
      }
      return c
    }
  }
  let out = Tensor(shape: plan.outShape, scalars: values)
  guard shouldRecord(a, b) else { return out }
  let aValues = a.scalars, bValues = b.scalars
  let needA = a.requiresGrad, needB = b.requiresGrad
  return out.recording([a, b]) { g in
    // forward: C = op(A) · op(B)
    // so:      dop(A) = dC · op(B)ᵀ,  dop(B) = op(A)ᵀ · dC
    // Broadcast batches accumulate (beta = 1) into the zero-initialised gradient buffers.
    var da: [Float]? = needA ? [Float](repeating: 0, count: aValues.count) : nil
    var db: [Float]? = needB ? [Float](repeating: 0, count: bValues.count) : nil
    guard k > 0, total > 0 else { return [da, db] }
    g.withUnsafeBufferPointer { pg in
      aValues.withUnsafeBufferPointer { pa in
        bValues.withUnsafeBufferPointer { pb in
          let gp = pg.baseAddress!, ap = pa.baseAddress!, bp = pb.baseAddress!
          if needA {
            da!.withUnsafeMutableBufferPointer { pda in
              let dap = pda.baseAddress!
              if plan.foldsBatch {
                // dA[BM, K] = dC[BM, N] · op(B)ᵀ
                sgemm(
                  .none, transposeB ? .none : .transposed, m: plan.offsets.count * m, n: k, k: n,
                  a: gp, lda: n, b: bp, ldb: ldb, beta: 1, c: dap, ldc: k)
              } else {
                for o in plan.offsets {
                  if transposeA {  // A stored [K, M]: dA = op(B) · dCᵀ
                    sgemm(
                      transposeB ? .transposed : .none, .transposed, m: k, n: m, k: n,
                      a: bp + o.b, lda: ldb, b: gp + o.c, ldb: n, beta: 1, c: dap + o.a, ldc: m)
                  } else {  // dA = dC · op(B)ᵀ
                    sgemm(
                      .none, transposeB ? .none : .transposed, m: m, n: k, k: n,
                      a: gp + o.c, lda: n, b: bp + o.b, ldb: ldb, beta: 1, c: dap + o.a, ldc: k)
                  }
                }
              }
            }
          }
          if needB {
            db!.withUnsafeMutableBufferPointer { pdb in
              let dbp = pdb.baseAddress!
              if plan.foldsBatch {
                if transposeB {  // dB[N, K] = dCᵀ[N, BM] · A[BM, K]
                  sgemm(
                    .transposed, .none, m: n, n: k, k: plan.offsets.count * m,
                    a: gp, lda: n, b: ap, ldb: k, beta: 1, c: dbp, ldc: k)
                } else {  // dB[K, N] = Aᵀ[K, BM] · dC[BM, N]
                  sgemm(
                    .transposed, .none, m: k, n: n, k: plan.offsets.count * m,
                    a: ap, lda: k, b: gp, ldb: n, beta: 1, c: dbp, ldc: n)
                }
              } else {
                for o in plan.offsets {
                  if transposeB {  // B stored [N, K]: dB = dCᵀ · op(A)
                    sgemm(
                      .transposed, transposeA ? .transposed : .none, m: n, n: k, k: m,
                      a: gp + o.c, lda: n, b: ap + o.a, ldb: lda, beta: 1, c: dbp + o.b, ldc: k)
                  } else {  // dB = op(A)ᵀ · dC
                    sgemm(
                      transposeA ? .none : .transposed, .none, m: k, n: n, k: m,
                      a: ap + o.a, lda: lda, b: gp + o.c, ldb: n, beta: 1, c: dbp + o.b, ldc: n)
                  }
                }
              }
            }
          }
        }
      }
    }
    return [da, db]
  }
}

/// Naive triple-loop matmul over the last two axes (no transposes, equal batch dims), accumulating
/// in `Double`. The reference every GEMM path is checked against; O(batch · M · N · K).
public func matmulReference(_ a: Tensor, _ b: Tensor) -> Tensor {
  precondition(a.rank >= 2 && a.shape.dropLast(2) == b.shape.dropLast(2), "matmulReference needs equal batch dims: \(a.shape), \(b.shape)")
  let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
  precondition(b.shape[b.rank - 2] == k, "inner dimensions differ: \(a.shape) x \(b.shape)")
  let batch = a.count / max(m * k, 1)
  var c = [Float](repeating: 0, count: batch * m * n)
  for bi in 0..<batch {
    for i in 0..<m {
      for j in 0..<n {
        var s = 0.0
        for p in 0..<k { s += Double(a.scalars[bi * m * k + i * k + p]) * Double(b.scalars[bi * k * n + p * n + j]) }
        c[bi * m * n + i * n + j] = Float(s)
      }
    }
  }
  return Tensor(shape: Array(a.shape.dropLast(2)) + [m, n], scalars: c)
}
