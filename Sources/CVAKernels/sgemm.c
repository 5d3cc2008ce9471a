#include <stdlib.h>
#include <string.h>
#include "CVAKernels.h"
#include "sgemm_pack.h"

// A BLIS-style single-precision GEMM (Goto & van de Geijn 2008; Van Zee & van de Geijn
// 2015): C is updated in MC x NC blocks; for each KC slice, B is packed into NR-wide
// column panels and A into MR-tall row panels, so the micro-kernel streams both from
// contiguous memory while its MR x NR accumulator tile stays in registers.
//
// Block sizes for AMD Zen 3/4 (32 KiB L1d, 512 KiB-1 MiB L2): a kc x nr micro-panel of B
// (20-24 KiB) stays in L1 across the micro-kernel calls of one column panel, and an
// mc x kc block of A (74-120 KiB) in L2. kc is per kernel: the 32-wide AVX-512 tile needs a
// shallower slice than the 16-wide AVX2 one.
#define MR 6
#define NR 16
#define KC 320
#define NC 512

// `init` NULL: C += the tile (a later depth slice, or beta != 0). Otherwise the first depth
// slice with beta == 0: C = the tile + init[j] (the bias, or zeros), so C is never zeroed
// or filled beforehand and never read back.
typedef void (*micro_kernel_fn)(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr,
                                const float *init);

/// A micro-kernel and the tile it computes: MR rows of A by NR columns of B.
typedef struct {
  micro_kernel_fn run;
  size_t mr, nr, mc;  // mc: rows of A packed per block, a multiple of mr
  size_t kc;          // depth of a packed slice: a KC x NR panel of B should fit in L1
  int level;          // 0 portable, 1 AVX2, 2 AVX-512
} micro_kernel;

// Adds the mr x nr corner of a full tile (rows `stride` floats apart) to C, or with `init`
// stores it plus init[j] (see micro_kernel_fn).
static inline void add_tile(const float *tile, size_t stride, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < nr; j++) c[i * ldc + j] = tile[i * stride + j] + (init ? init[j] : c[i * ldc + j]);
}

// Portable micro-kernel: plain C the compiler can vectorise for any target.
static void kernel_portable(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  float tile[MR * NR] = {0};
  for (size_t p = 0; p < kc; p++) {
    for (size_t i = 0; i < MR; i++) {
      float av = a[p * MR + i];
      for (size_t j = 0; j < NR; j++) tile[i * NR + j] += av * b[p * NR + j];
    }
  }
  add_tile(tile, NR, c, ldc, mr, nr, init);
}

#if defined(__x86_64__)
#include <immintrin.h>

// 6 x 16 AVX2+FMA micro-kernel: 12 ymm accumulators, 2 for B, 1 broadcast of A.
__attribute__((target("avx2,fma")))
static void kernel_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 av;
    av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
    a += MR;
    b += NR;
  }
  if (mr == MR && nr == NR) {
    __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (init) {  // separate loops, as in kernel_avx512
      __m256 i0 = _mm256_loadu_ps(init), i1 = _mm256_loadu_ps(init + 8);
      for (size_t i = 0; i < MR; i++) {
        _mm256_storeu_ps(c + i * ldc, _mm256_add_ps(i0, rows[i][0]));
        _mm256_storeu_ps(c + i * ldc + 8, _mm256_add_ps(i1, rows[i][1]));
      }
    } else {
      for (size_t i = 0; i < MR; i++) {
        float *row = c + i * ldc;
        _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), rows[i][0]));
        _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), rows[i][1]));
      }
    }
  } else {
    float tile[MR * NR] __attribute__((aligned(32)));
    __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (size_t i = 0; i < MR; i++) {
      _mm256_store_ps(tile + i * NR, rows[i][0]);
      _mm256_store_ps(tile + i * NR + 8, rows[i][1]);
    }
    add_tile(tile, NR, c, ldc, mr, nr, init);
  }
}

// 12 x 32 AVX-512 micro-kernel: 24 zmm accumulators, 2 for B, 1 broadcast of A (of 32).
#define MR512 12
#define NR512 32
#ifndef KC512
#define KC512 256  // 256 x 32 floats of B = 32 KiB: measured best on Zen 4 (128-256 tried)
#endif
__attribute__((target("avx512f")))
static void kernel_avx512(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  __m512 acc[MR512][2];
  _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MR512; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
    for (size_t i = 0; i < MR512; i++) {  // unrolled by the compiler: i is a constant bound
      __m512 av = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
    a += MR512;
    b += NR512;
  }
  if (mr == MR512 && nr == NR512) {
    // The two epilogues as separate loops: choosing the source row inside one loop made the
    // compiler keep acc in a stack array (zeroed by memset on every call, 3% of ViT-S).
    if (init) {
      __m512 i0 = _mm512_loadu_ps(init), i1 = _mm512_loadu_ps(init + 16);
      _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MR512; i++) {
        _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(i0, acc[i][0]));
        _mm512_storeu_ps(c + i * ldc + 16, _mm512_add_ps(i1, acc[i][1]));
      }
    } else {
      _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MR512; i++) {
        float *row = c + i * ldc;
        _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[i][0]));
        _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[i][1]));
      }
    }
  } else {
    // Edge tile: masked loads and stores touch only the mr x nr corner of C.
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    // The accumulators go through a stack tile first: indexing them by the run-time row
    // count would make the compiler keep all of them in memory, in the full-tile path too.
    float tile[MR512 * NR512] __attribute__((aligned(64)));
    _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MR512; i++) {
      _mm512_store_ps(tile + i * NR512, acc[i][0]);
      _mm512_store_ps(tile + i * NR512 + 16, acc[i][1]);
    }
    __m512 i0 = init ? _mm512_maskz_loadu_ps(m0, init) : _mm512_setzero_ps();
    __m512 i1 = init && m1 ? _mm512_maskz_loadu_ps(m1, init + 16) : _mm512_setzero_ps();
    for (size_t i = 0; i < mr; i++) {
      float *row = c + i * ldc;
      __m512 c0 = init ? i0 : _mm512_maskz_loadu_ps(m0, row);
      _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(c0, _mm512_load_ps(tile + i * NR512)));
      if (m1) {
        __m512 c1 = init ? i1 : _mm512_maskz_loadu_ps(m1, row + 16);
        _mm512_mask_storeu_ps(row + 16, m1, _mm512_add_ps(c1, _mm512_load_ps(tile + i * NR512 + 16)));
      }
    }
  }
}
#endif

// Chosen by CPU detection: AVX-512 where the CPU has it, else AVX2+FMA, else portable C.
// CVA_SGEMM_KERNEL=portable|avx2 in the environment forces a lower level (for tests).
static micro_kernel kernel_up_to(int limit) {
  micro_kernel portable = {kernel_portable, MR, NR, 96, KC, 0};
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (limit >= 2 && __builtin_cpu_supports("avx512f")) return (micro_kernel){kernel_avx512, MR512, NR512, 96, KC512, 2};
  if (limit >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return (micro_kernel){kernel_avx2, MR, NR, 96, KC, 1};
#endif
  return portable;
}

static micro_kernel select_kernel(void) {
  const char *forced = getenv("CVA_SGEMM_KERNEL");
  return kernel_up_to(forced ? (strcmp(forced, "portable") == 0 ? 0 : strcmp(forced, "avx2") == 0 ? 1 : 2) : 2);
}

static micro_kernel chosen_kernel(void) {
  static micro_kernel kernel;
  static int ready = 0;
  if (!ready) {  // benign race: every thread computes and stores the same value
    kernel = select_kernel();
    ready = 1;
  }
  return kernel;
}

int cva_sgemm_kernel_level(void) { return chosen_kernel().level; }


static void sgemm_with(micro_kernel kernel, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                       float *c, size_t ldc);

// Walks the cache lines of a block of stored rows (`rows` rows of `row_bytes` bytes,
// `stride` bytes apart) and prefetches a few at a time.
//
// Why: at batch 1 every weight comes from DRAM once per forward, and packing B was a pure
// memory phase (6-8% of ViT-S's samples) with the FMA units idle. While the micro-kernels
// work on one packed block of B, the lines of the next block are requested a few per
// micro-kernel call, so its packing finds them in cache.
typedef struct {
  const char *base;
  size_t rows, row_bytes, stride;
  size_t row;          // next row to fetch
  const char *next;    // next line of `row`, or NULL before the row starts
} prefetch_cursor;

static prefetch_cursor prefetch_block(const float *base, size_t rows, size_t row_floats, size_t stride_floats) {
  return (prefetch_cursor){(const char *)base, rows, row_floats * sizeof(float), stride_floats * sizeof(float), 0, NULL};
}

static inline void prefetch_lines(prefetch_cursor *cursor, size_t lines) {
  while (lines > 0 && cursor->row < cursor->rows) {
    const char *start = cursor->base + cursor->row * cursor->stride;
    if (!cursor->next) cursor->next = (const char *)((size_t)start & ~(size_t)63);
    __builtin_prefetch(cursor->next, 0, 2);
    lines--;
    cursor->next += 64;
    if (cursor->next >= start + cursor->row_bytes) {
      cursor->row++;
      cursor->next = NULL;
    }
  }
}

void cva_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta,
              float *c, size_t ldc) {
  sgemm_with(chosen_kernel(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, NULL, c, ldc);
}

void cva_sgemm_bias(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                   const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                   float *c, size_t ldc) {
  sgemm_with(chosen_kernel(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, bias, c, ldc);
}

int cva_sgemm_at_level(int level, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                      float *c, size_t ldc) {
  micro_kernel kernel = kernel_up_to(level);
  if (kernel.level != level) return 0;
  sgemm_with(kernel, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, bias, c, ldc);
  return 1;
}

static void sgemm_with(micro_kernel kernel, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                       float *c, size_t ldc) {
  if (m == 0 || n == 0) return;
  // With beta == 0 and a product to add, the first depth slice's micro-kernels store
  // alpha·A·B + bias over C (never reading it, so NaNs in C do not leak): no zeroing or bias
  // fill pass over C. Otherwise C = beta * C + bias first, then C += alpha·A·B.
  int overwrite = beta == 0 && k > 0 && alpha != 0;
  if (!overwrite) {
    for (size_t i = 0; i < m; i++) {
      float *row = c + i * ldc;
      if (beta == 0) memset(row, 0, n * sizeof(float));
      else if (beta != 1) for (size_t j = 0; j < n; j++) row[j] *= beta;
      if (bias) for (size_t j = 0; j < n; j++) row[j] += bias[j];
    }
  }
  if (k == 0 || alpha == 0) return;
  static const float zeros[32];  // init for beta == 0 without a bias: the widest tile (NR512)
  const size_t mrk = kernel.mr, nrk = kernel.nr, MC = kernel.mc, kcb = kernel.kc;
  // Column blocks of at most NC, split evenly (so 576 columns are one block, not 512 + 64,
  // which would pack A twice for a sliver of work).
  size_t blocks = (n + NC - 1) / NC;
  size_t nc_step = ((n + blocks - 1) / blocks + nrk - 1) / nrk * nrk;
  size_t nc_max = n < nc_step ? n : nc_step, kc_max = k < kcb ? k : kcb, mc_max = m < MC ? m : MC;
  float *packed_b = aligned_alloc(64, ((nc_max + nrk - 1) / nrk * nrk * kc_max * sizeof(float) + 63) / 64 * 64);
  float *packed_a = aligned_alloc(64, ((mc_max + mrk - 1) / mrk * mrk * kc_max * sizeof(float) + 63) / 64 * 64);
  if (!packed_a || !packed_b) {
    free(packed_a);
    free(packed_b);
    if (overwrite) {  // the beta pass was skipped: C = bias (or 0), then the product onto it
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : 0;
    }
    cva_sgemm_reference(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, 1, c, ldc);
    return;
  }
  for (size_t jc = 0; jc < n; jc += nc_step) {
    size_t nc = n - jc < nc_step ? n - jc : nc_step;
    for (size_t pc = 0; pc < k; pc += kcb) {
      size_t kc = k - pc < kcb ? k - pc : kcb;
      cva_pack_b(trans_b, kc, nc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, nrk, kernel.level >= 1, packed_b);
      // The block packed next: the next depth slice, else the first slice of the next columns.
      size_t next_jc = pc + kcb < k ? jc : jc + nc_step, next_pc = pc + kcb < k ? pc + kcb : 0;
      prefetch_cursor cursor = prefetch_block(b, 0, 0, 0);
      size_t lines_per_call = 0;
      if (next_jc < n) {
        size_t next_nc = n - next_jc < nc_step ? n - next_jc : nc_step, next_kc = k - next_pc < kcb ? k - next_pc : kcb;
        cursor = trans_b ? prefetch_block(b + next_jc * ldb + next_pc, next_nc, next_kc, ldb)
                         : prefetch_block(b + next_pc * ldb + next_jc, next_kc, next_nc, ldb);
        size_t lines = cursor.rows * (cursor.row_bytes / 64 + 2);
        size_t calls = ((nc + nrk - 1) / nrk) * ((m + mrk - 1) / mrk);
        lines_per_call = lines / calls + 1;
      }
      for (size_t ic = 0; ic < m; ic += MC) {
        size_t mc = m - ic < MC ? m - ic : MC;
        cva_pack_a(trans_a, mc, kc, alpha, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, mrk, kernel.level >= 1, packed_a);
        for (size_t jr = 0; jr < nc; jr += nrk) {
          size_t nr = nc - jr < nrk ? nc - jr : nrk;
          for (size_t ir = 0; ir < mc; ir += mrk) {
            size_t mr = mc - ir < mrk ? mc - ir : mrk;
            const float *init = overwrite && pc == 0 ? (bias ? bias + jc + jr : zeros) : NULL;
            kernel.run(kc, packed_a + ir * kc, packed_b + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, mr, nr, init);
            prefetch_lines(&cursor, lines_per_call);
          }
        }
      }
    }
  }
  free(packed_a);
  free(packed_b);
}

void cva_sgemm_reference(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                        const float *a, size_t lda, const float *b, size_t ldb, float beta,
                        float *c, size_t ldc) {
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) {
      double sum = 0;
      for (size_t p = 0; p < k; p++) {
        float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += (double)av * bv;
      }
      c[i * ldc + j] = (float)(alpha * sum) + (beta == 0 ? 0 : beta * c[i * ldc + j]);
    }
  }
}
