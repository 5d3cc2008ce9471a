// Packing of GEMM operands into the panels the micro-kernels stream (BLIS's "pack A into
// MR-row panels, B into NR-column panels"), split from sgemm.c, which drives them.
#include <string.h>
#include "sgemm_pack.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
// Eight values of row i of a layer-normalised A: (x − mean) · rstd · gamma + beta, the scalar
// cva_layer_norm_value's steps (unfused), so each lane has its bits.
__attribute__((target("avx2"), always_inline))
static inline __m256 layer_norm8(__m256 x, const cva_prologue *ln, size_t i, __m256 gamma, __m256 beta) {
  __m256 centred = _mm256_sub_ps(x, _mm256_set1_ps(ln->mean[i]));
  __m256 normalised = _mm256_mul_ps(centred, _mm256_set1_ps(ln->rstd[i]));
  __m256 scaled = ln->gamma ? _mm256_mul_ps(normalised, gamma) : normalised;
  return ln->beta ? _mm256_add_ps(scaled, beta) : scaled;
}

__attribute__((target("avx2"), always_inline))
static inline __m128 layer_norm4(__m128 x, const cva_prologue *ln, size_t i, __m128 gamma, __m128 beta) {
  __m128 centred = _mm_sub_ps(x, _mm_set1_ps(ln->mean[i]));
  __m128 normalised = _mm_mul_ps(centred, _mm_set1_ps(ln->rstd[i]));
  __m128 scaled = ln->gamma ? _mm_mul_ps(normalised, gamma) : normalised;
  return ln->beta ? _mm_add_ps(scaled, beta) : scaled;
}

// Packs one full mr-row panel of alpha * prologue(A) (A not transposed: rows contiguous in p),
// 8 depths at a time: each group of 8 rows by an 8x8 register transpose, a group of 4 by a 4x4
// one, the 0-3 rows left (2 of a 14-row panel) one value at a time. With a layer norm (`ln` not
// NULL, offset to this panel) each loaded vector is normalised in registers before the
// transpose: the normalised A is never stored. Inlined into the two callers below, so the
// plain path's `ln` is a constant NULL and its code is what it was.
__attribute__((target("avx2"), always_inline))
static inline void pack_a_panel_avx2_with(size_t kc, float alpha, const float *a, size_t lda, size_t mr, const cva_prologue *ln,
                                          float *out) {
  const __m256 va = _mm256_set1_ps(alpha);
  const __m128 va4 = _mm256_castps256_ps128(va);
  size_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    __m256 gamma = _mm256_setzero_ps(), beta = _mm256_setzero_ps();
    if (ln && ln->gamma) gamma = _mm256_loadu_ps(ln->gamma + p);
    if (ln && ln->beta) beta = _mm256_loadu_ps(ln->beta + p);
    size_t g = 0;
    for (; g + 8 <= mr; g += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; i++) {
        __m256 x = _mm256_loadu_ps(a + (g + i) * lda + p);
        if (ln) x = layer_norm8(x, ln, g + i, gamma, beta);
        r[i] = _mm256_mul_ps(x, va);
      }
      __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
      __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
      __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      float *o = out + g;
      _mm256_storeu_ps(o + (p + 0) * mr, _mm256_permute2f128_ps(s0, s4, 0x20));
      _mm256_storeu_ps(o + (p + 1) * mr, _mm256_permute2f128_ps(s1, s5, 0x20));
      _mm256_storeu_ps(o + (p + 2) * mr, _mm256_permute2f128_ps(s2, s6, 0x20));
      _mm256_storeu_ps(o + (p + 3) * mr, _mm256_permute2f128_ps(s3, s7, 0x20));
      _mm256_storeu_ps(o + (p + 4) * mr, _mm256_permute2f128_ps(s0, s4, 0x31));
      _mm256_storeu_ps(o + (p + 5) * mr, _mm256_permute2f128_ps(s1, s5, 0x31));
      _mm256_storeu_ps(o + (p + 6) * mr, _mm256_permute2f128_ps(s2, s6, 0x31));
      _mm256_storeu_ps(o + (p + 7) * mr, _mm256_permute2f128_ps(s3, s7, 0x31));
    }
    for (; g + 4 <= mr; g += 4) {
      for (int half = 0; half < 2; half++) {
        size_t base = p + 4 * half;
        __m128 gamma4 = half ? _mm256_extractf128_ps(gamma, 1) : _mm256_castps256_ps128(gamma);
        __m128 beta4 = half ? _mm256_extractf128_ps(beta, 1) : _mm256_castps256_ps128(beta);
        __m128 q[4];
        for (int i = 0; i < 4; i++) {
          __m128 x = _mm_loadu_ps(a + (g + i) * lda + base);
          if (ln) x = layer_norm4(x, ln, g + i, gamma4, beta4);
          q[i] = _mm_mul_ps(x, va4);
        }
        _MM_TRANSPOSE4_PS(q[0], q[1], q[2], q[3]);
        _mm_storeu_ps(out + (base + 0) * mr + g, q[0]);
        _mm_storeu_ps(out + (base + 1) * mr + g, q[1]);
        _mm_storeu_ps(out + (base + 2) * mr + g, q[2]);
        _mm_storeu_ps(out + (base + 3) * mr + g, q[3]);
      }
    }
    for (; g < mr; g++)
      for (size_t q = p; q < p + 8; q++) {
        float x = a[g * lda + q];
        out[q * mr + g] = alpha * (ln ? cva_layer_norm_value(ln, x, g, q) : x);
      }
  }
  for (; p < kc; p++)
    for (size_t i = 0; i < mr; i++) {
      float x = a[i * lda + p];
      out[p * mr + i] = alpha * (ln ? cva_layer_norm_value(ln, x, i, p) : x);
    }
}

__attribute__((target("avx2")))
static void pack_a_panel_avx2(size_t kc, float alpha, const float *a, size_t lda, size_t mr, float *out) {
  pack_a_panel_avx2_with(kc, alpha, a, lda, mr, NULL, out);
}

__attribute__((target("avx2")))
static void pack_a_panel_avx2_layer_norm(size_t kc, float alpha, const float *a, size_t lda, size_t mr, const cva_prologue *ln,
                                         float *out) {
  pack_a_panel_avx2_with(kc, alpha, a, lda, mr, ln, out);
}

// Packs `panels` full mr-row panels of alpha · Aᵀ (A stored kc x M: depth p's values are row p)
// walking A one stored row at a time: each row's panels·mr values are contiguous, so every
// cache line read is used whole at once and the reads are one forward stream. Packing panel
// by panel instead read 48 bytes of each of kc rows per panel, re-reading each line from L2
// for the next panel (the loop was 8% of a ViT training step, stalled on loads).
__attribute__((target("avx2")))
static void pack_a_transposed_panels_avx2(size_t panels, size_t kc, float alpha, const float *a, size_t lda, size_t mr,
                                          float *out) {
  const __m256 va = _mm256_set1_ps(alpha);
  const __m128 va4 = _mm256_castps256_ps128(va);
  for (size_t p = 0; p < kc; p++) {
    const float *src = a + p * lda;
    float *dst = out + p * mr;
    for (size_t q = 0; q < panels; q++, src += mr, dst += kc * mr) {
      size_t i = 0;
      for (; i + 8 <= mr; i += 8) _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_loadu_ps(src + i), va));
      for (; i + 4 <= mr; i += 4) _mm_storeu_ps(dst + i, _mm_mul_ps(_mm_loadu_ps(src + i), va4));
      for (; i < mr; i++) dst[i] = alpha * src[i];
    }
  }
}

// Copies one full nr-column panel of B as stored (nr a multiple of 8) in 8-float vectors: the
// memcpy of nr floats per depth it replaces was a library call per 128 bytes (4% of a ViT
// training step, most of it call overhead).
__attribute__((target("avx2")))
static void pack_b_panel_avx2(size_t kc, const float *b, size_t ldb, size_t nr, float *out) {
  for (size_t p = 0; p < kc; p++, out += nr) {
    const float *row = b + p * ldb;
    for (size_t j = 0; j < nr; j += 8) _mm256_storeu_ps(out + j, _mm256_loadu_ps(row + j));
  }
}
#endif

// Packs rows [0, mc) x columns [0, kc) of alpha * prologue(op(A)) into MR-row panels, zero-padded.
void cva_pack_a(int trans, size_t mc, size_t kc, float alpha, const float *a, size_t lda, size_t mr, int fast_transpose,
                const cva_prologue *prologue, float *out) {
  const cva_prologue *ln = prologue && prologue->kind == CVA_PROLOGUE_LAYER_NORM ? prologue : NULL;
  for (size_t i0 = 0; i0 < mc; i0 += mr) {
    size_t rows = mc - i0 < mr ? mc - i0 : mr;
#if defined(__x86_64__)
    if (!trans && rows == mr && mr >= 8 && fast_transpose) {
      if (ln) {
        cva_prologue panel = cva_prologue_at(ln, i0, 0);
        pack_a_panel_avx2_layer_norm(kc, alpha, a + i0 * lda, lda, mr, &panel, out);
      } else {
        pack_a_panel_avx2(kc, alpha, a + i0 * lda, lda, mr, out);
      }
      out += kc * mr;
      continue;
    }
    if (trans && fast_transpose && mc - i0 >= mr) {
      // op(A) = Aᵀ (a weight gradient's dYᵀ): every full panel left, one stored row at a time.
      size_t panels = (mc - i0) / mr;
      pack_a_transposed_panels_avx2(panels, kc, alpha, a + i0, lda, mr, out);
      out += panels * kc * mr;
      i0 += (panels - 1) * mr;  // the loop's step adds the last panel
      continue;
    }
#endif
    if (trans && rows == mr) {
      // op(A) = Aᵀ: each depth's mr values are contiguous in A, a branch-free loop the
      // compiler vectorises (the generic loop below was 10% of a ViT training step).
      for (size_t p = 0; p < kc; p++) {
        const float *src = a + p * lda + i0;
        for (size_t i = 0; i < mr; i++) out[i] = alpha * src[i];
        out += mr;
      }
      continue;
    }
    // The general case: a partial panel, a kernel under 8 rows tall, or portable C. Rows past
    // `rows` are padding and stay zero (not the layer norm of zero, which would be beta).
    for (size_t p = 0; p < kc; p++) {
      for (size_t i = 0; i < mr; i++) {
        float v = 0;
        if (i < rows) {
          v = trans ? a[p * lda + i0 + i] : a[(i0 + i) * lda + p];
          if (ln) v = cva_layer_norm_value(ln, v, i0 + i, p);
        }
        *out++ = alpha * v;
      }
    }
  }
}

#if defined(__x86_64__)
// Packs one full nr-column panel of op(B) = Bᵀ: 8 stored rows x 8 depths at a time are
// transposed in registers (the 8x8 unpack/shuffle/permute pattern), so reads and writes are
// both contiguous 32-byte vectors. nr is a multiple of 8.
__attribute__((target("avx2")))
static void pack_b_panel_transposed_avx2(size_t kc, const float *b, size_t ldb, size_t nr, float *out) {
  size_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    if ((p & 15) == 0) {
      // One line per stored row, 4 lines ahead; past the slice, the next panel's rows
      // (nr rows further on). Without it every load here waited on memory.
      size_t ahead = p + 64;
      for (size_t j = 0; j < nr; j++)
        __builtin_prefetch(ahead < kc ? b + j * ldb + ahead : b + (j + nr) * ldb + (ahead - kc), 0, 3);
    }
    for (size_t j = 0; j < nr; j += 8) {
      __m256 r0 = _mm256_loadu_ps(b + (j + 0) * ldb + p), r1 = _mm256_loadu_ps(b + (j + 1) * ldb + p);
      __m256 r2 = _mm256_loadu_ps(b + (j + 2) * ldb + p), r3 = _mm256_loadu_ps(b + (j + 3) * ldb + p);
      __m256 r4 = _mm256_loadu_ps(b + (j + 4) * ldb + p), r5 = _mm256_loadu_ps(b + (j + 5) * ldb + p);
      __m256 r6 = _mm256_loadu_ps(b + (j + 6) * ldb + p), r7 = _mm256_loadu_ps(b + (j + 7) * ldb + p);
      __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
      __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
      __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
      __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
      __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      _mm256_storeu_ps(out + (p + 0) * nr + j, _mm256_permute2f128_ps(s0, s4, 0x20));
      _mm256_storeu_ps(out + (p + 1) * nr + j, _mm256_permute2f128_ps(s1, s5, 0x20));
      _mm256_storeu_ps(out + (p + 2) * nr + j, _mm256_permute2f128_ps(s2, s6, 0x20));
      _mm256_storeu_ps(out + (p + 3) * nr + j, _mm256_permute2f128_ps(s3, s7, 0x20));
      _mm256_storeu_ps(out + (p + 4) * nr + j, _mm256_permute2f128_ps(s0, s4, 0x31));
      _mm256_storeu_ps(out + (p + 5) * nr + j, _mm256_permute2f128_ps(s1, s5, 0x31));
      _mm256_storeu_ps(out + (p + 6) * nr + j, _mm256_permute2f128_ps(s2, s6, 0x31));
      _mm256_storeu_ps(out + (p + 7) * nr + j, _mm256_permute2f128_ps(s3, s7, 0x31));
    }
  }
  for (; p < kc; p++)
    for (size_t j = 0; j < nr; j++) out[p * nr + j] = b[j * ldb + p];
}
#endif

// Packs rows [0, kc) x columns [0, nc) of op(B) into NR-column panels, zero-padded.
void cva_pack_b(int trans, size_t kc, size_t nc, const float *b, size_t ldb, size_t nr, int fast_transpose, float *out) {
  for (size_t j0 = 0; j0 < nc; j0 += nr) {
    size_t cols = nc - j0 < nr ? nc - j0 : nr;
    if (trans) {
#if defined(__x86_64__)
      if (cols == nr && fast_transpose) {
        pack_b_panel_transposed_avx2(kc, b + j0 * ldb, ldb, nr, out);
        out += kc * nr;
        continue;
      }
#endif
      // op(B) = Bᵀ (a linear layer's [out, in] weight): read each stored row contiguously
      // and scatter it down the panel, instead of gathering with a stride of ldb.
      for (size_t j = 0; j < nr; j++) {
        const float *row = b + (j0 + j) * ldb;
        if (j < cols)
          for (size_t p = 0; p < kc; p++) out[p * nr + j] = row[p];
        else
          for (size_t p = 0; p < kc; p++) out[p * nr + j] = 0;
      }
      out += kc * nr;
      continue;
    }
#if defined(__x86_64__)
    if (cols == nr && fast_transpose && nr % 8 == 0) {
      pack_b_panel_avx2(kc, b + j0, ldb, nr, out);
      out += kc * nr;
      continue;
    }
#endif
    for (size_t p = 0; p < kc; p++) {
      if (cols == nr) {
        memcpy(out, b + p * ldb + j0, nr * sizeof(float));
        out += nr;
        continue;
      }
      for (size_t j = 0; j < nr; j++) *out++ = j < cols ? b[p * ldb + j0 + j] : 0;
    }
  }
}
