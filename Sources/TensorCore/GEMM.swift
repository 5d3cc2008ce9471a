import CKernels

/// Matrix layout of one GEMM operand.
public enum MatrixTranspose: Sendable {
  case none, transposed
}

/// Single-precision GEMM on row-major buffers: `C = alpha · op(A) · op(B) + beta · C`.
///
/// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `lda`, `ldb`, `ldc` are
/// row strides in elements (of A and B as stored, before `op`).
/// This is the one entry point every matmul, convolution and attention product goes through.
public func sgemm(
  _ transA: MatrixTranspose, _ transB: MatrixTranspose,
  m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  ck_sgemm(
    transA == .transposed ? 1 : 0, transB == .transposed ? 1 : 0,
    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
