#include <math.h>
#include <string.h>
#include "CVAKernels.h"

// Memory-efficient attention for inference: FlashAttention's tiling and online softmax
// (Dao et al. 2022, Algorithm 1; Milakov & Gimelshein 2018 for the running max and sum),
// laid out for a CPU's caches instead of a GPU's shared memory. For a block of m query rows
// the keys are visited in tiles of `key_tile`; the m x key_tile scores of one tile, the
// m x d accumulator and the tile of K and V are all the working set, so with m = 192,
// key_tile = 256 and d = 64 it stays in a 1 MiB L2 while the full T x T matrix is never
// formed. Every product goes through cva_sgemm; the exponentials through cva_exp_shifted_sum.
//
// Per key tile j, per row r (S = scale · Q K_jᵀ + bias_j):
//   m' = max(m, max_c S[r, c]);  P[r, c] = exp(S[r, c] - m');  a = exp(m - m')
//   l ← a · l + Σ_c P[r, c];     O[r] ← a · O[r] + P[r] V_j;   m ← m'
// and at the end out[r] = O[r] / l. A row whose scores so far are all -inf keeps m = -inf,
// l = 0, O = 0 (its P is set to 0 rather than exp(-inf + inf) = NaN), and a row that is -inf
// everywhere ends as zeros, as the plain softmax here does.

size_t cva_attention_scratch(size_t m, size_t d, size_t key_tile) {
  return m * key_tile + m * d + 2 * m;
}

void cva_attention_rows(size_t m, size_t t, size_t d, float scale,
                       const float *q, size_t ldq, const float *kt, size_t ldkt, const float *v, size_t ldv,
                       const float *bias, size_t ldbias, float *out, size_t ldo,
                       size_t key_tile, float *scratch) {
  if (m == 0 || d == 0) return;
  if (key_tile == 0) key_tile = 256;
  float *scores = scratch;                  // [m, key_tile]
  float *acc = scores + m * key_tile;       // [m, d]
  float *row_max = acc + m * d;             // [m]
  float *row_sum = row_max + m;             // [m]
  for (size_t r = 0; r < m; r++) { row_max[r] = -INFINITY; row_sum[r] = 0; }
  memset(acc, 0, m * d * sizeof(float));
  for (size_t j0 = 0; j0 < t; j0 += key_tile) {
    size_t n = t - j0 < key_tile ? t - j0 : key_tile;
    // S = scale · Q K_jᵀ, [m, n] with row stride n; Kᵀ is stored, so the GEMM packs its
    // tile by plain row copies (packing K itself, transposed, cost a tenth of the time).
    cva_sgemm(0, 0, m, n, d, scale, q, ldq, kt + j0, ldkt, 0, scores, n);
    for (size_t r = 0; r < m; r++) {
      float *s = scores + r * n;
      if (bias) {
        const float *b = bias + r * ldbias + j0;
        for (size_t c = 0; c < n; c++) s[c] += b[c];
      }
      float tile_max = cva_max(s, n);
      float next_max = tile_max > row_max[r] ? tile_max : row_max[r];
      if (next_max == -INFINITY) {
        memset(s, 0, n * sizeof(float));
        continue;
      }
      float decay = row_max[r] == -INFINITY ? 0 : expf(row_max[r] - next_max);
      row_sum[r] = row_sum[r] * decay + cva_exp_shifted_sum(s, n, next_max);
      if (decay != 1) {
        float *o = acc + r * d;
        for (size_t c = 0; c < d; c++) o[c] *= decay;
      }
      row_max[r] = next_max;
    }
    // O += P V_j.
    cva_sgemm(0, 0, m, d, n, 1, scores, n, v + j0 * ldv, ldv, 1, acc, d);
  }
  for (size_t r = 0; r < m; r++) {
    float inverse = row_sum[r] > 0 ? 1 / row_sum[r] : 0;
    const float *o = acc + r * d;
    float *dst = out + r * ldo;
    for (size_t c = 0; c < d; c++) dst[c] = o[c] * inverse;
  }
}
