#ifndef CVAKERNELS_H
#define CVAKERNELS_H
// C micro-kernels for VATensorCore. Provides no stable Swift API: VATensorCore wraps it.
// Every exported symbol carries the `cva_` prefix (the module prefix, shared with
// CVAImageCodecs) and the environment variable `CVA_SGEMM_KERNEL`.
#include <stddef.h>

/// Single-precision GEMM, row-major: C = alpha * op(A) * op(B) + beta * C.
/// op(A) is M x K (A is stored K x M when trans_a), op(B) is K x N (B is N x K when
/// trans_b); lda/ldb/ldc are row strides in elements. Packed, cache-blocked, with an
/// AVX2+FMA micro-kernel when the CPU has one. Single-threaded: the caller splits work.
void cva_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta,
              float *c, size_t ldc);

/// cva_sgemm plus a row vector: C = alpha * op(A) * op(B) + beta * C + bias, bias[j] added to
/// every row (a linear layer's bias); bias may be NULL. With beta == 0 the micro-kernels
/// store the first depth slice's tile plus the bias, so C is not filled beforehand.
void cva_sgemm_bias(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                   const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                   float *c, size_t ldc);

/// The naive triple loop (Double accumulation), kept as the reference for tests.
void cva_sgemm_reference(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                        const float *a, size_t lda, const float *b, size_t ldb, float beta,
                        float *c, size_t ldc);

/// The micro-kernel cva_sgemm uses on this CPU: 0 portable C, 1 AVX2+FMA (6x16),
/// 2 AVX-512 (12x32). CVA_SGEMM_KERNEL=portable|avx2 in the environment caps it.
int cva_sgemm_kernel_level(void);

/// cva_sgemm_bias with the micro-kernel of `level` (0, 1, 2) instead of the detected one, for
/// tests; returns 0 without computing when this CPU lacks that level.
int cva_sgemm_at_level(int level, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                      float *c, size_t ldc);

/// x[i] = exp(x[i] - shift) in place; returns the sum of the results (softmax's inner
/// loop). Vectorised for AVX-512 and AVX2 (relative error about 1e-7); -inf gives 0.
float cva_exp_shifted_sum(float *x, size_t n, float shift);

/// cva_exp_shifted_sum with the code path of `level` (0 portable, 1 AVX2, 2 AVX-512), for
/// tests; NaN when this CPU lacks that level.
float cva_exp_shifted_sum_at_level(int level, float *x, size_t n, float shift);

/// The largest of x[0..<n] (-inf when n is 0); vectorised for AVX-512. Softmax's row shift.
float cva_max(const float *x, size_t n);

/// cva_max with the code path of `level` (0 portable, 2 AVX-512; 1 runs the portable loop),
/// for tests; NaN when this CPU lacks that level.
float cva_max_at_level(int level, const float *x, size_t n);

/// GELU, exact (erf) form, dst[i] = 0.5 x (1 + erf(x / √2)) with x = src[i]; vectorised
/// erf by Abramowitz & Stegun 7.1.26 (absolute error 1.5e-7). src and dst may be equal.
void cva_gelu_erf(const float *src, float *dst, size_t n);

/// cva_gelu_erf with the code path of `level`, for tests; 0 when this CPU lacks that level.
int cva_gelu_erf_at_level(int level, const float *src, float *dst, size_t n);

/// GELU's backward: dx[i] = grad[i] · (Φ(x) + x φ(x)) with the same vectorised erf
/// (absolute error about 2e-7 on the derivative). dx may equal grad.
void cva_gelu_erf_backward(const float *x, const float *grad, float *dx, size_t n);

/// cva_gelu_erf_backward with the code path of `level`, for tests; 0 when this CPU lacks it.
int cva_gelu_erf_backward_at_level(int level, const float *x, const float *grad, float *dx, size_t n);

/// glibc only (a no-op elsewhere): serve blocks below `mmap_threshold` bytes from the heap
/// and give freed heap memory back to the kernel only above `trim_threshold` bytes.
void cva_keep_freed_memory(size_t mmap_threshold, size_t trim_threshold);

/// One head's attention for `m` query rows with the keys in tiles and an online softmax
/// (FlashAttention, Dao et al. 2022, on a CPU): out = softmax(scale · Q Kᵀ + bias) V without
/// forming the m x t scores. q is [m, d] (row stride ldq), kt is Kᵀ, [d, t] (row stride
/// ldkt), v is [t, d] (ldv),
/// bias is [m, t] (ldbias; added before the softmax, -inf drops a key) or NULL, out is [m, d]
/// (ldo). scratch holds cva_attention_scratch(m, d, key_tile) floats. A row with no finite
/// score gives zeros. Single-threaded: the caller splits rows and heads across threads.
void cva_attention_rows(size_t m, size_t t, size_t d, float scale,
                       const float *q, size_t ldq, const float *kt, size_t ldkt, const float *v, size_t ldv,
                       const float *bias, size_t ldbias, float *out, size_t ldo,
                       size_t key_tile, float *scratch);

/// Floats of scratch cva_attention_rows needs: m·key_tile scores, an m x d accumulator and
/// two values per row.
size_t cva_attention_scratch(size_t m, size_t d, size_t key_tile);

#endif
