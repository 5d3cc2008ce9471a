import CVAKernels
import Dispatch
import Foundation
import Synchronization

/// Matrix layout of one GEMM operand.
public enum MatrixTranspose: Sendable {
  /// `none`: the operand is read as stored, row-major; `transposed`: as its transpose (BLAS's `N`
  /// and `T`).
  case none, transposed
}

/// How many threads parallel kernels use: `VISION_ATTENTION_THREADS` when set, else the
/// machine's active processors. Settable at run time (benchmarks compare 1 and all).
public enum ComputeThreads {
  private static let storage = Atomic<Int>(ComputeThreads.initial)

  private static var initial: Int {
    if let text = ProcessInfo.processInfo.environment["VISION_ATTENTION_THREADS"], let n = Int(text), n > 0 { return n }
    return max(ProcessInfo.processInfo.activeProcessorCount, 1)
  }

  /// Threads parallel kernels split work over, at least 1 (setting a smaller value stores 1).
  public static var count: Int {
    get { storage.load(ordering: .relaxed) }
    set { storage.store(max(newValue, 1), ordering: .relaxed) }
  }
}

/// The micro-kernel `sgemm` runs on this CPU, chosen by CPU detection.
public var sgemmKernel: String { ["portable C", "AVX2+FMA 6x16", "AVX-512 12x32"][Int(cva_sgemm_kernel_level())] }

/// Single-precision GEMM on row-major buffers: `C = alpha · op(A) · op(B) + beta · C + bias`.
///
/// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`, `bias` (optional) is `[n]`
/// and is added to every row; `lda`, `ldb`, `ldc` are row strides in elements (of A and B as
/// stored, before `op`). With `beta == 0`, C's prior contents are never read (they may be
/// uninitialised), and the bias is added as the micro-kernels store the product.
/// This is the one entry point every matmul, convolution and attention product goes through.
/// Products of at least 2²⁰ multiply-adds are split across `ComputeThreads.count` threads
/// along the larger of `m` and `n`; each thread packs its own panels (cva_sgemm).
public func sgemm(
  _ transA: MatrixTranspose, _ transB: MatrixTranspose,
  m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, bias: UnsafePointer<Float>? = nil,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  let ta: Int32 = transA == .transposed ? 1 : 0, tb: Int32 = transB == .transposed ? 1 : 0
  let (splitRows, parts) = sgemmPartition(m: m, n: n, k: k, threads: ComputeThreads.count)
  guard parts.count > 1 else {
    cva_sgemm_bias(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, bias, c, ldc)
    return
  }
  // Addresses travel as integers: the parts are disjoint, and Dispatch's closure is Sendable.
  let (aAddress, bAddress, cAddress) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: c))
  let biasAddress = bias.map { Int(bitPattern: $0) }
  DispatchQueue.concurrentPerform(iterations: parts.count) { part in
    let (start, count) = (parts[part].lowerBound, parts[part].count)
    let a = UnsafePointer<Float>(bitPattern: aAddress)!, b = UnsafePointer<Float>(bitPattern: bAddress)!
    let c = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
    let bias = biasAddress.flatMap { UnsafePointer<Float>(bitPattern: $0) }
    if splitRows {
      cva_sgemm_bias(ta, tb, count, n, k, alpha, transA == .transposed ? a + start : a + start * lda, lda, b, ldb, beta, bias, c + start * ldc, ldc)
    } else {
      cva_sgemm_bias(ta, tb, m, count, k, alpha, a, lda, transB == .transposed ? b + start * ldb : b + start, ldb, beta, bias.map { $0 + start }, c + start, ldc)
    }
  }
}

/// How `sgemm` shares a product among `threads` threads: along the rows of C when `m >= n`
/// (`alongRows`), else its columns, in parts of whole micro-kernel tiles (12 rows or 32
/// columns), one part per thread that has work. A product under 2²⁰ multiply-adds, or whose
/// larger side is under 32, is one part: threads would cost more than they save.
public func sgemmPartition(m: Int, n: Int, k: Int, threads: Int) -> (alongRows: Bool, parts: [Range<Int>]) {
  let splitRows = m >= n
  let extent = splitRows ? m : n
  let threads = min(threads, max(m, n) / 16)
  guard threads > 1, m * n * k >= 1 << 20 else { return (splitRows, [0..<extent]) }
  let unit = splitRows ? 12 : 32  // a multiple of every micro-kernel's tile
  let step = ((extent + threads - 1) / threads + unit - 1) / unit * unit
  let parts = stride(from: 0, to: extent, by: step).map { $0..<min($0 + step, extent) }
  return (splitRows, parts)
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
/// whole products, which beats splitting every product; large ones go through `sgemm`.
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
  let (aAddress, bAddress, cAddress) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: c))
  DispatchQueue.concurrentPerform(iterations: threads) { part in
    let a = UnsafePointer<Float>(bitPattern: aAddress)!, b = UnsafePointer<Float>(bitPattern: bAddress)!
    let c = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
    for index in stride(from: part, to: offsets.count, by: threads) {
      let o = offsets[index]
      cva_sgemm(ta, tb, m, n, k, alpha, a + o.a, lda, b + o.b, ldb, beta, c + o.c, ldc)
    }
  }
}
