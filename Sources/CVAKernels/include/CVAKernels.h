#ifndef CVAKERNELS_H
#define CVAKERNELS_H
// C micro-kernels for VATensorCore. Provides no stable Swift API: VATensorCore wraps it.
// Every exported symbol carries the `cva_` prefix (the module prefix, shared with
// CVAImageCodecs), as do the environment variables `CVA_SGEMM_KERNEL` and
// `CVA_SPIN_MICROSECONDS` (how long the thread pool's workers spin between jobs, default 2000;
// a value that is not a whole number from 0 to 10,000,000 is ignored).
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

/// What cva_sgemm_fused applies to each finished block of C.
enum {
  /// Nothing.
  CVA_EPILOGUE_NONE = 0,
  /// GELU's exact (erf) form by cva_gelu_erf: cva_sgemm_bias then cva_gelu_erf, within the
  /// vectorised erf's 1.5e-7 (bit for bit where both see whole 16-wide vectors).
  CVA_EPILOGUE_GELU_ERF = 1,
  /// C[i, j] += addend[i·ld + j] (a residual connection): cva_sgemm_bias then the sum, bit for bit.
  CVA_EPILOGUE_ADD = 2,
};

/// An epilogue and its operand (`addend`, `ld`: for CVA_EPILOGUE_ADD, an m x n matrix with row
/// stride ld, at the same row and column offsets as C).
typedef struct {
  int kind;
  const float *addend;
  size_t ld;
} cva_epilogue;

/// What cva_sgemm_fused applies to A as it packs it, before the product.
enum {
  /// Nothing: A as stored.
  CVA_PROLOGUE_NONE = 0,
  /// Layer normalisation of each row of A (Ba et al. 2016) with precomputed row statistics:
  /// A[i, p] becomes (A[i, p] − mean[i]) · rstd[i] · gamma[p] + beta[p], in that order and
  /// unfused, so each value has the bits VATensorCore's `layerNorm` gives it.
  CVA_PROLOGUE_LAYER_NORM = 1,
};

/// A prologue and its operands, for A not transposed only: `mean` and `rstd` have one value per
/// row of A (m), `gamma` and `beta` one per column (k); gamma NULL means 1, beta NULL means 0.
/// The normalised m x k matrix is never stored: each mr-row panel is normalised in registers as
/// it is packed (and its padding rows stay zero).
typedef struct {
  int kind;
  const float *mean, *rstd;
  const float *gamma, *beta;
} cva_prologue;

/// cva_sgemm_bias on prologue(A), then `epilogue` applied to C = alpha·op(A)·op(B) + beta·C + bias,
/// one block at a time as the last depth slice finishes it (while it is in cache): a layer norm,
/// a linear layer and its activation or residual sum in one pass. `prologue` and `epilogue` may be
/// NULL (none); a CVA_PROLOGUE_LAYER_NORM with trans_a set is a programming error and traps.
void cva_sgemm_fused(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                     const cva_prologue *prologue, const cva_epilogue *epilogue, float *c, size_t ldc);

/// How many times cva_sgemm has allocated (or grown) this thread's packing buffers: constant
/// once the thread has run its largest GEMM, so later GEMMs allocate nothing.
size_t cva_pack_scratch_allocations(void);

/// Runs function(context, i) for every i in [0, count) on up to `threads` threads (the caller
/// and threads - 1 pool workers, started on first use and kept), returning when all have run.
/// Iterations are claimed one at a time, so which thread runs which is not fixed: each must
/// write only its own memory. Workers spin for a while after a job so the next short one
/// starts at once (thread_pool.c). A call from inside an iteration, or while another thread's
/// call is running, runs its iterations in order on the calling thread. Returns how many threads
/// could take part: 1 when it ran inline, 0 for no iterations. `threads` is capped at
/// cva_usable_cpus().
size_t cva_parallel_for(size_t count, size_t threads, void (*function)(void *context, size_t index), void *context);

/// The processors this process may run on (its affinity mask: what taskset or a batch
/// scheduler gave it), else the online ones; at least 1. Read once.
size_t cva_usable_cpus(void);

/// The naive triple loop (Double accumulation), kept as the reference for tests.
void cva_sgemm_reference(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                        const float *a, size_t lda, const float *b, size_t ldb, float beta,
                        float *c, size_t ldc);

/// cva_sgemm_reference on prologue(A) (NULL: none), each element of A normalised as it is read:
/// the fallback cva_sgemm_fused takes when it cannot allocate its panels, and a reference for tests.
void cva_sgemm_reference_prologue(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                  const float *a, size_t lda, const float *b, size_t ldb, float beta,
                                  const cva_prologue *prologue, float *c, size_t ldc);

/// The instruction set of the micro-kernel cva_sgemm uses on this CPU: 0 portable C,
/// 1 AVX2+FMA, 2 AVX-512. CVA_SGEMM_KERNEL=portable|avx2 in the environment caps it.
int cva_sgemm_kernel_level(void);

/// CPU vendors whose cores want different micro-kernel shapes.
enum { CVA_VENDOR_OTHER = 0, CVA_VENDOR_AMD = 1, CVA_VENDOR_INTEL = 2 };

/// This CPU's vendor by CPUID (CVA_VENDOR_*); CVA_VENDOR_OTHER off x86.
int cva_cpu_vendor(void);

/// Where cache sizes came from.
enum { CVA_CACHES_DEFAULT = 0, CVA_CACHES_SYSFS = 1, CVA_CACHES_CPUID = 2 };

/// Per-core data cache sizes in bytes (l3: one instance, shared by its cores).
typedef struct {
  size_t l1d, l2, l3;
  int source;  // CVA_CACHES_*
} cva_caches;

/// This CPU's caches: Linux's /sys/devices/system/cpu/cpu0/cache, else CPUID (leaf 4 on Intel,
/// 0x8000001D on AMD), else 32 KiB / 1 MiB / 8 MiB with source CVA_CACHES_DEFAULT.
cva_caches cva_detect_caches(void);

/// A micro-kernel's tile (mr x nr) and the block sizes cva_sgemm uses with it on this CPU:
/// mc rows of A, kc depths, nc columns of B per packed block, all derived from cva_detect_caches.
typedef struct {
  size_t mr, nr, mc, kc, nc;
} cva_sgemm_blocking;

/// The micro-kernels compiled in, indices 0 ..< cva_sgemm_kernel_count(): "portable",
/// "avx2-6x16", "avx512-12x32" (shaped for AMD Zen 4), "avx512-14x32" (for Intel cores with two
/// 512-bit FMA ports). NULL for an index out of range.
int cva_sgemm_kernel_count(void);
const char *cva_sgemm_kernel_name(int index);

/// 1 when this CPU can run kernel `index`, else 0.
int cva_sgemm_kernel_supported(int index);

/// Kernel `index`'s tile and block sizes on this CPU (all 0 for an index out of range).
cva_sgemm_blocking cva_sgemm_blocking_of(int index);

/// The kernel cva_sgemm uses: the one shaped for this CPU's vendor at the widest instruction set
/// it has, unless CVA_SGEMM_KERNEL names a kernel this CPU can run.
int cva_sgemm_kernel_index(void);

/// What became of CVA_SGEMM_KERNEL.
enum { CVA_KERNEL_REQUEST_NONE = 0, CVA_KERNEL_REQUEST_APPLIED = 1, CVA_KERNEL_REQUEST_UNKNOWN = 2, CVA_KERNEL_REQUEST_UNSUPPORTED = 3 };
int cva_sgemm_kernel_request_status(void);

/// cva_sgemm_fused with kernel `index` (and its blocking); returns 0 without computing when this
/// CPU cannot run it. For tests and benchmarks of every path, prologues and epilogues included.
int cva_sgemm_with_kernel(int index, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                          const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                          const cva_prologue *prologue, const cva_epilogue *epilogue, float *c, size_t ldc);

/// One core's measured fp32 FMA throughput in GFLOP/s: independent register-only chains of the
/// widest FMA this CPU has (AVX-512, else AVX2), in windows of a few ms for about `seconds`;
/// the best window's rate, so other work on the machine lowers it less. 0 without either.
double cva_fma_peak_gflops(double seconds);

/// cva_sgemm_bias with the micro-kernel of `level` (0, 1, 2; at 2 the one for this CPU's
/// vendor) instead of the detected one, for tests; returns 0 without computing when this CPU
/// lacks that level.
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

/// Layer norm's backward over `rows` rows of width c, given the upstream gradient g, the
/// normalised input x̂ = (x − μ)·rstd (both rows x c) and each row's rstd: adds Σ g·x̂ to dw and
/// Σ g to db (each [c]), and writes dx = rstd·(g·w − mean(g·w) − x̂·mean(g·w·x̂)) when dx is not
/// NULL. w NULL means 1. The row sums run in vector lanes, so they round differently from a
/// sequential loop (within float rounding of the sum).
void cva_layer_norm_backward(size_t rows, size_t c, const float *g, const float *xhat, const float *rstd, const float *w,
                             float *dx, float *dw, float *db);

/// cva_layer_norm_backward with the code path of `level`, for tests; 0 when this CPU lacks it.
int cva_layer_norm_backward_at_level(int level, size_t rows, size_t c, const float *g, const float *xhat, const float *rstd,
                                     const float *w, float *dx, float *dw, float *db);

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

/// Softmax of `rows` attention score rows of `n` keys in place (row stride lds), after adding
/// bias (row stride ldbias) and then mask (ldmask), either NULL: the composed path's
/// operations in its order, so the same bits. A row with no finite score becomes zeros.
void cva_attention_softmax_rows(float *s, size_t rows, size_t n, size_t lds,
                                const float *bias, size_t ldbias, const float *mask, size_t ldmask);

/// Softmax's backward for `rows` attention rows of `n` keys, in place: given the weights P
/// (row stride ldp) and ∂L/∂P in dp (lddp), writes ∂L/∂S = P ∘ (∂L/∂P − Σⱼ Pⱼ ∂L/∂Pⱼ) over dp.
/// Masked keys (P = 0) get 0, and an all-masked row (zeros) gives zeros.
void cva_attention_softmax_backward_rows(const float *p, size_t ldp, float *dp, size_t lddp, size_t rows, size_t n);

/// Floats of scratch cva_attention_rows needs: m·key_tile scores, an m x d accumulator and
/// two values per row.
size_t cva_attention_scratch(size_t m, size_t d, size_t key_tile);

/// The scalars of one AdamW step (see Sources/VATensorCore/AdamW.swift): decay = 1 − lr·λ, the
/// betas and their complements, the bias corrections c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ, lr and ε.
typedef struct {
  float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, c1, c2, lr, epsilon;
} cva_adamw_scalars;

/// AdamW's update of n elements in place, vectorised (AVX-512, AVX2, portable), the scalar
/// loop's operations in its order and unfused, so every level gives the same bits:
///   θ ← θ·decay;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g·g;  θ ← θ − lr·(m/c1) / (√(v/c2) + ε)
void cva_adamw_step(float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s);

/// cva_adamw_step with the code path of `level`, for tests; 0 when this CPU lacks that level.
int cva_adamw_step_at_level(int level, float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s);

#endif
