// The SGEMM micro-kernels, one per instruction set and, where one shape cannot serve both, per
// microarchitecture family; sgemm.c chooses one and drives it (packing, blocking, threads).
#include "CVAKernels.h"
#include "sgemm_kernels.h"

#define MAX_MR 16
#define MAX_NR 32

// Adds the mr x nr corner of a full tile (rows `stride` floats apart) to C, or with `init`
// stores it plus init[j] (see cva_micro_kernel_fn).
static inline void add_tile(const float *tile, size_t stride, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  for (size_t i = 0; i < mr; i++)
    for (size_t j = 0; j < nr; j++) c[i * ldc + j] = tile[i * stride + j] + (init ? init[j] : c[i * ldc + j]);
}

// Portable micro-kernel (6 x 16): plain C the compiler can vectorise for any target.
static void kernel_portable(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  float tile[6 * 16] = {0};
  for (size_t p = 0; p < kc; p++) {
    for (size_t i = 0; i < 6; i++) {
      float av = a[p * 6 + i];
      for (size_t j = 0; j < 16; j++) tile[i * 16 + j] += av * b[p * 16 + j];
    }
  }
  add_tile(tile, 16, c, ldc, mr, nr, init);
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
    a += 6;
    b += 16;
  }
  __m256 rows[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == 6 && nr == 16) {
    if (init) {  // separate loops, as in the AVX-512 kernels
      __m256 i0 = _mm256_loadu_ps(init), i1 = _mm256_loadu_ps(init + 8);
      for (size_t i = 0; i < 6; i++) {
        _mm256_storeu_ps(c + i * ldc, _mm256_add_ps(i0, rows[i][0]));
        _mm256_storeu_ps(c + i * ldc + 8, _mm256_add_ps(i1, rows[i][1]));
      }
    } else {
      for (size_t i = 0; i < 6; i++) {
        float *row = c + i * ldc;
        _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), rows[i][0]));
        _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), rows[i][1]));
      }
    }
  } else {
    float tile[6 * 16] __attribute__((aligned(32)));
    for (size_t i = 0; i < 6; i++) {
      _mm256_store_ps(tile + i * 16, rows[i][0]);
      _mm256_store_ps(tile + i * 16 + 8, rows[i][1]);
    }
    add_tile(tile, 16, c, ldc, mr, nr, init);
  }
}

// MRK x 32 AVX-512 micro-kernel, reading MRK rows of a packed A panel a_stride rows tall: 2·MRK zmm accumulators, 2 for B, 1 broadcast of A.
// `narrow`: only the first 16 columns (a last panel of at most 16, as T = 65 or 197 leaves in
// attention's Q·Kᵀ), half the FMAs; the columns it computes get the same sums. Inlined
// into one function per MRK, so every loop below has a constant bound and is unrolled, and the
// accumulators live in registers (MRK <= 14: 28 + 3 of the 32 zmm).
//
// `prefetch`: requests the A micro-panel 8 depths ahead and the C tile before the loop. Intel's
// cores, with two 512-bit FMA ports, finish a depth step in half the cycles of Zen 4's and
// outrun the hardware prefetcher on the A stream; on Zen 4 the extra requests measured neutral
// to slightly negative, so its kernel goes without.
__attribute__((target("avx512f"), always_inline))
static inline void kernel_avx512_mr(const size_t MRK, const size_t a_stride, const int prefetch, const int narrow, size_t kc,
                                    const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr,
                                    const float *init) {
  __m512 acc[MAX_MR][2];
  _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MRK; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  if (prefetch) {
    _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MRK; i++) {
      _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
    }
  }
  for (size_t p = 0; p < kc; p++) {
    if (prefetch) _mm_prefetch((const char *)(a + 8 * a_stride), _MM_HINT_T0);
    __m512 b0 = _mm512_load_ps(b), b1 = narrow ? b0 : _mm512_load_ps(b + 16);
    _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MRK; i++) {
      __m512 av = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      if (!narrow) acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
    a += a_stride;
    b += 32;
  }
  if (mr == MRK && nr == 32) {
    // The two epilogues as separate loops: choosing the source row inside one loop made the
    // compiler keep acc in a stack array (zeroed by memset on every call, 3% of ViT-S).
    if (init) {
      __m512 i0 = _mm512_loadu_ps(init), i1 = _mm512_loadu_ps(init + 16);
      _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MRK; i++) {
        _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(i0, acc[i][0]));
        _mm512_storeu_ps(c + i * ldc + 16, _mm512_add_ps(i1, acc[i][1]));
      }
    } else {
      _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MRK; i++) {
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
    float tile[MAX_MR * MAX_NR] __attribute__((aligned(64)));
    _Pragma("clang loop unroll(full)") for (size_t i = 0; i < MRK; i++) {
      _mm512_store_ps(tile + i * MAX_NR, acc[i][0]);
      _mm512_store_ps(tile + i * MAX_NR + 16, acc[i][1]);
    }
    __m512 i0 = init ? _mm512_maskz_loadu_ps(m0, init) : _mm512_setzero_ps();
    __m512 i1 = init && m1 ? _mm512_maskz_loadu_ps(m1, init + 16) : _mm512_setzero_ps();
    for (size_t i = 0; i < mr; i++) {
      float *row = c + i * ldc;
      __m512 c0 = init ? i0 : _mm512_maskz_loadu_ps(m0, row);
      _mm512_mask_storeu_ps(row, m0, _mm512_add_ps(c0, _mm512_load_ps(tile + i * MAX_NR)));
      if (m1) {
        __m512 c1 = init ? i1 : _mm512_maskz_loadu_ps(m1, row + 16);
        _mm512_mask_storeu_ps(row + 16, m1, _mm512_add_ps(c1, _mm512_load_ps(tile + i * MAX_NR + 16)));
      }
    }
  }
}

// Zen 4 (AVX-512 on 256-bit units, one zmm FMA per cycle in effect): 24 accumulators cover its
// latency; measured 0.83-0.89 of its peak. Tile and no software prefetch as tuned there.
__attribute__((target("avx512f")))
static void kernel_avx512_12x32(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  if (nr <= 16) kernel_avx512_mr(12, 12, 0, 1, kc, a, b, c, ldc, mr, nr, init);
  else kernel_avx512_mr(12, 12, 0, 0, kc, a, b, c, ldc, mr, nr, init);
}

// Intel cores with two 512-bit FMA ports (Skylake-SP and later Xeons): 8 FMAs must be in
// flight to cover 2 ports x 4 cycles; 28 accumulators do, and a 14-row tile loads B once per
// 28 FMAs instead of 24 (16 loads per 28 FMAs, under the 2 loads per cycle the ports allow).
// 14 also divides 98, half of ViT's 197 rows less one.
__attribute__((target("avx512f")))
static void kernel_avx512_14x32(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr, const float *init) {
  if (nr <= 16) kernel_avx512_mr(14, 14, 1, 1, kc, a, b, c, ldc, mr, nr, init);
  else kernel_avx512_mr(14, 14, 1, 0, kc, a, b, c, ldc, mr, nr, init);
}

// The last rows of a tall panel (M = 197 leaves 1 row of 14, or 5 of 12): the 4- or 8-row
// kernel over the first rows of the zero-padded panel, so a 1-row edge costs 4 rows of FMAs,
// not 14. Each element's sum runs in the same order as in the full kernels.
__attribute__((target("avx512f")))
static void edge_avx512(size_t kc, const float *a, size_t a_stride, const float *b, float *c, size_t ldc, size_t mr, size_t nr,
                        const float *init) {
  int narrow = nr <= 16;
  if (mr <= 4 && narrow) kernel_avx512_mr(4, a_stride, 0, 1, kc, a, b, c, ldc, mr, nr, init);
  else if (mr <= 4) kernel_avx512_mr(4, a_stride, 0, 0, kc, a, b, c, ldc, mr, nr, init);
  else if (narrow) kernel_avx512_mr(8, a_stride, 0, 1, kc, a, b, c, ldc, mr, nr, init);
  else kernel_avx512_mr(8, a_stride, 0, 0, kc, a, b, c, ldc, mr, nr, init);
}
#endif

const cva_kernel_spec cva_kernel_specs[] = {
    {"portable", kernel_portable, NULL, 6, 16, 0, CVA_VENDOR_OTHER, CVA_KC_B_SHARE_OF_L1, 5},
#if defined(__x86_64__)
    {"avx2-6x16", kernel_avx2, NULL, 6, 16, 1, CVA_VENDOR_OTHER, CVA_KC_B_SHARE_OF_L1, 5},
    {"avx512-12x32", kernel_avx512_12x32, edge_avx512, 12, 32, 2, CVA_VENDOR_AMD, CVA_KC_B_SHARE_OF_L1, 8},
    {"avx512-14x32", kernel_avx512_14x32, edge_avx512, 14, 32, 2, CVA_VENDOR_INTEL, CVA_KC_A_AND_B_IN_L1, 0},
#endif
};
const int cva_kernel_spec_count = sizeof cva_kernel_specs / sizeof cva_kernel_specs[0];
