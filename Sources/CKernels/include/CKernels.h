#ifndef CKERNELS_H
#define CKERNELS_H
// C micro-kernels for TensorCore. Provides no stable Swift API: TensorCore wraps it.
#include <stddef.h>

/// Single-precision GEMM, row-major: C = alpha * op(A) * op(B) + beta * C.
/// op(A) is M x K (A is K x M when trans_a), op(B) is K x N (B is N x K when trans_b).
/// lda/ldb/ldc are row strides in elements. Single-threaded; the caller splits work.
void ck_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta,
              float *c, size_t ldc);

#endif
