import CVAKernels
import Foundation
import Synchronization

/// Matrix layout of one GEMM operand.
public enum MatrixTranspose: Sendable {
  /// `none`: the operand is read as stored, row-major; `transposed`: as its transpose (BLAS's `N`
  /// and `T`).
  case none, transposed
}

/// An element-wise function `sgemm` applies to each block of C as it finishes (while the block
/// is in cache), instead of a separate pass over C.
public enum SGEMMEpilogue {
  /// Nothing: `C = alpha · op(A) · op(B) + beta · C + bias`.
  case none
  /// GELU's exact (erf) form on that C by the same vectorised erf as `gelu(_:approximation: .exact)`
  /// (cva_gelu_erf, run per row of a block): equal to the GEMM then `gelu` bit for bit where
  /// both see 16-wide vectors, within the erf's 1.5e-7 where either takes a scalar tail.
  case geluErf
  /// `C[i, j] += addend[i · ld + j]` on that C (a residual connection, `[m, n]` with row stride
  /// `ld`): the GEMM then the sum, bit for bit (the same two operands of one addition).
  case add(UnsafePointer<Float>, ld: Int)

  /// The epilogue as CVAKernels reads it, for the part of C starting at (row, column); the
  /// addend travels as an address so parts can cross threads.
  func parts() -> (kind: Int32, address: Int, ld: Int) {
    switch self {
    case .none: (Int32(CVA_EPILOGUE_NONE), 0, 0)
    case .geluErf: (Int32(CVA_EPILOGUE_GELU_ERF), 0, 0)
    case .add(let addend, let ld): (Int32(CVA_EPILOGUE_ADD), Int(bitPattern: addend), ld)
    }
  }
}

/// What `sgemm` applies to A as it packs each panel, before the product: the transformed A is
/// never stored, only its packed panels (in cache), so a layer norm before a linear layer costs
/// no pass over memory and no `[m, k]` buffer.
public enum SGEMMPrologue {
  /// Nothing: A as stored.
  case none
  /// Layer normalisation of each row of A (Ba et al. 2016) with its statistics computed
  /// beforehand, as `linear(layerNormed:...)` computes them: `A[i, p] → (A[i, p] − mean[i]) ·
  /// rstd[i] · gamma[p] + beta[p]`, one rounding per step as `layerNorm` computes it, so each
  /// normalised value has the composed path's bits. `mean` and `rstd` (`1/√(σ² + ε)`) are `[m]`;
  /// `gamma` and `beta` are `[k]` (nil: 1 and 0). A must not be transposed (a precondition).
  case layerNorm(mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?)

  /// The prologue as addresses, so parts can cross threads.
  func parts() -> PrologueParts {
    switch self {
    case .none: PrologueParts(kind: Int32(CVA_PROLOGUE_NONE), mean: 0, rstd: 0, gamma: 0, beta: 0)
    case .layerNorm(let mean, let rstd, let gamma, let beta):
      PrologueParts(
        kind: Int32(CVA_PROLOGUE_LAYER_NORM), mean: Int(bitPattern: mean), rstd: Int(bitPattern: rstd),
        gamma: gamma.map { Int(bitPattern: $0) } ?? 0, beta: beta.map { Int(bitPattern: $0) } ?? 0)
    }
  }
}

/// An `SGEMMPrologue`'s kind and operand addresses (0 for none).
struct PrologueParts: Sendable {
  let kind: Int32
  let mean: Int, rstd: Int, gamma: Int, beta: Int
}

/// Runs `body` with CVAKernels' form of a prologue whose row statistics start at row `row` of
/// the ones given (a part of C's rows), or with nil for none.
func withPrologue<R>(_ p: PrologueParts, row: Int, _ body: (UnsafePointer<cva_prologue>?) -> R) -> R {
  guard p.kind != Int32(CVA_PROLOGUE_NONE) else { return body(nil) }
  func at(_ address: Int, _ offset: Int) -> UnsafePointer<Float>? { UnsafePointer<Float>(bitPattern: address).map { $0 + offset } }
  var prologue = cva_prologue(kind: p.kind, mean: at(p.mean, row), rstd: at(p.rstd, row), gamma: at(p.gamma, 0), beta: at(p.beta, 0))
  return withUnsafePointer(to: &prologue) { body($0) }
}

/// Runs `body` with CVAKernels' form of an epilogue whose addend (if any) starts at element
/// `offset` of the one given.
func withEpilogue<R>(_ e: (kind: Int32, address: Int, ld: Int), offset: Int, _ body: (UnsafePointer<cva_epilogue>) -> R) -> R {
  let addend = UnsafePointer<Float>(bitPattern: e.address).map { $0 + offset }
  var epilogue = cva_epilogue(kind: e.kind, addend: addend, ld: e.ld)
  return withUnsafePointer(to: &epilogue, body)
}

/// How many threads parallel kernels use: `VISION_ATTENTION_THREADS` when set, else the
/// processors this process may run on (its affinity mask, so `taskset -c 0,1` or a batch
/// scheduler's allocation counts, not every processor of the node). Settable at run time
/// (benchmarks compare 1 and all). The pool never runs more threads than those processors.
public enum ComputeThreads {
  private static let storage = Atomic<Int>(ComputeThreads.initial)

  private static var initial: Int {
    if let text = ProcessInfo.processInfo.environment["VISION_ATTENTION_THREADS"], let n = Int(text), n > 0 { return n }
    return max(cva_usable_cpus(), 1)
  }

  /// The processors this process may run on (its affinity mask), at least 1: parallel work
  /// never runs on more threads than this, whatever `count` says, since the pool's spinning
  /// workers would take turns on the same processors.
  public static var usableProcessors: Int { max(Int(cva_usable_cpus()), 1) }

  /// Threads parallel kernels split work over, at least 1 (setting a smaller value stores 1).
  public static var count: Int {
    get { storage.load(ordering: .relaxed) }
    set { storage.store(max(newValue, 1), ordering: .relaxed) }
  }
}

/// The micro-kernel `sgemm` runs on this CPU and its block sizes, chosen by CPU detection:
/// "avx512-12x32 (mc 96, kc 256, nc 512)" (see `SGEMMKernel`).
public var sgemmKernel: String { SGEMMKernel.chosen.description }

/// Single-precision GEMM on row-major buffers:
/// `C = epilogue(alpha · prologue(op(A)) · op(B) + beta · C + bias)`.
///
/// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`, `bias` (optional) is `[n]`
/// and is added to every row; `lda`, `ldb`, `ldc` are row strides in elements (of A and B as
/// stored, before `op`). With `beta == 0`, C's prior contents are never read (they may be
/// uninitialised), and the bias is added as the micro-kernels store the product.
/// This is the one entry point every matmul, convolution and attention product goes through.
/// Products of at least 2²⁰ multiply-adds are split across `ComputeThreads.count` threads
/// along the larger of `m` and `n`; each thread packs its own panels (cva_sgemm).
/// The `prologue` transforms A's panels as they are packed (`SGEMMPrologue`).
public func sgemm(
  _ transA: MatrixTranspose, _ transB: MatrixTranspose,
  m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, bias: UnsafePointer<Float>? = nil, prologue: SGEMMPrologue = .none, epilogue: SGEMMEpilogue = .none,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  let ta: Int32 = transA == .transposed ? 1 : 0, tb: Int32 = transB == .transposed ? 1 : 0
  let (splitRows, parts) = sgemmPartition(m: m, n: n, k: k, threads: ComputeThreads.count)
  let (normed, fused) = (prologue.parts(), epilogue.parts())
  precondition(normed.kind == Int32(CVA_PROLOGUE_NONE) || transA == .none, "sgemm's layer-norm prologue needs A not transposed")
  guard parts.count > 1 else {
    withPrologue(normed, row: 0) { pro in
      withEpilogue(fused, offset: 0) { cva_sgemm_fused(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, bias, pro, $0, c, ldc) }
    }
    return
  }
  // The parts write disjoint blocks of C.
  parallelFor(parts.count, threads: parts.count) { part in
    let (start, count) = (parts[part].lowerBound, parts[part].count)
    // A part of the rows takes the row statistics from its first row; a part of the columns
    // reads every row of A, so all of them.
    if splitRows {
      withPrologue(normed, row: start) { pro in
        withEpilogue(fused, offset: start * fused.ld) {
          cva_sgemm_fused(
            ta, tb, count, n, k, alpha, transA == .transposed ? a + start : a + start * lda, lda, b, ldb, beta, bias, pro, $0, c + start * ldc, ldc)
        }
      }
    } else {
      withPrologue(normed, row: 0) { pro in
        withEpilogue(fused, offset: start) {
          cva_sgemm_fused(
            ta, tb, m, count, k, alpha, a, lda, transB == .transposed ? b + start * ldb : b + start, ldb, beta, bias.map { $0 + start }, pro, $0,
            c + start, ldc)
        }
      }
    }
  }
}

/// How `sgemm` shares a product among `threads` threads: along the rows of C when `m >= n`
/// (`alongRows`), else its columns, in parts of whole micro-kernel tiles (`tileRows` rows, the
/// chosen kernel's, or 32 columns), one part per thread that has work. A product under 2²⁰
/// multiply-adds, or whose larger side is under 32, is one part: threads would cost more than
/// they save.
///
/// Why this side: each thread packs the whole of the operand it does not split, so splitting
/// the rows repeats B's packing (k·n) and splitting the columns repeats A's (m·k); the larger
/// of m and n is the side whose split repeats less. ViT's batch-1 products (m = 197 rows, n of
/// 384 or more) split their columns: each thread streams half the weight from memory, once.
/// Each boundary is the multiple of the tile nearest to an even share, so M = 197 on two threads
/// with 14-row tiles splits 98 + 99 (7 tiles each, the second plus a 1-row edge that the edge
/// kernel computes for the cost of 4 rows), where rounding every part up to whole tiles gave
/// 112 + 85: one thread waited for the other's extra tiles.
public func sgemmPartition(
  m: Int, n: Int, k: Int, threads: Int, tileRows: Int = SGEMMKernel.chosen.tile.rows
) -> (alongRows: Bool, parts: [Range<Int>]) {
  let splitRows = m >= n
  let extent = splitRows ? m : n
  let threads = min(threads, max(m, n) / 16)
  guard threads > 1, m * n * k >= 1 << 20 else { return (splitRows, [0..<extent]) }
  let unit = splitRows ? tileRows : 32  // a multiple of every kernel's column tile (16, 32)
  let bounds = (0...threads).map { part in
    part == threads ? extent : Int((Double(extent * part) / Double(threads * unit)).rounded()) * unit
  }
  return (splitRows, zip(bounds, bounds.dropFirst()).filter { $0 < $1 }.map { $0..<$1 })
}

/// The naive triple loop with Double accumulation, kept as the reference for tests.
public func sgemmReference(
  _ transA: MatrixTranspose, _ transB: MatrixTranspose,
  m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
  cva_sgemm_reference(transA == .transposed ? 1 : 0, transB == .transposed ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// Many independent products `C_i = alpha · op(A_i) · op(B_i) + beta · C_i` of the same
/// shape, at element offsets `(a, b, c)` from the base pointers; the `C_i` must not overlap.
///
/// When each product is small (attention scores: `[T, d] · [T, d]ᵀ` per head) threads take
/// whole products, which beats splitting every product, or row parts of every product when the
/// products do not divide evenly among the threads (`sgemmBatchedWork`); large ones go
/// through `sgemm`.
public func sgemmBatched(
  _ transA: MatrixTranspose, _ transB: MatrixTranspose,
  m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
  offsets: [(a: Int, b: Int, c: Int)]
) {
  let threads = min(ComputeThreads.count, offsets.count)
  guard threads > 1, m * n * k < 1 << 23 else {
    for o in offsets {
      sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a + o.a, lda: lda, b: b + o.b, ldb: ldb, beta: beta, c: c + o.c, ldc: ldc)
    }
    return
  }
  let ta: Int32 = transA == .transposed ? 1 : 0, tb: Int32 = transB == .transposed ? 1 : 0
  let items = sgemmBatchedWork(products: offsets.count, m: m, threads: threads)
  parallelFor(threads, threads: threads) { part in
    for (index, rows) in items[part] {
      let o = offsets[index], start = rows.lowerBound
      // Rows of op(A) start at row `start` of A, or its column `start` when A is transposed.
      let aStart = a + o.a + (transA == .transposed ? start : start * lda)
      cva_sgemm(ta, tb, rows.count, n, k, alpha, aStart, lda, b + o.b, ldb, beta, c + o.c + start * ldc, ldc)
    }
  }
}

/// How `sgemmBatched` deals `products` products of `m` rows to `threads` threads: whole products
/// in turn when they divide evenly, else every product cut into `threads` row parts (at the
/// chosen kernel's tile rows, as `sgemmPartition` cuts) dealt out in contiguous runs of equal
/// count. Why: ViT-Ti's 3 heads on 2 threads gave one thread 2 heads and the other 1, so one
/// core idled a third of the attention; cut in halves, each thread gets 3 half-heads.
/// Each element's sum is unchanged by the cut (rows are independent), so the result is too.
public func sgemmBatchedWork(
  products: Int, m: Int, threads: Int, tileRows: Int = SGEMMKernel.chosen.tile.rows
) -> [[(product: Int, rows: Range<Int>)]] {
  guard threads > 1 else { return [(0..<products).map { ($0, 0..<m) }] }
  guard products % threads != 0, m >= 2 * tileRows else {
    return (0..<threads).map { part in stride(from: part, to: products, by: threads).map { ($0, 0..<m) } }
  }
  let cuts = (0...threads).map { part in
    part == threads ? m : Int((Double(m * part) / Double(threads * tileRows)).rounded()) * tileRows
  }
  let pieces = zip(cuts, cuts.dropFirst()).filter { $0 < $1 }.map { $0..<$1 }
  let all = (0..<products).flatMap { product in pieces.map { (product: product, rows: $0) } }
  return (0..<threads).map { part in Array(all[(all.count * part / threads)..<(all.count * (part + 1) / threads)]) }
}
