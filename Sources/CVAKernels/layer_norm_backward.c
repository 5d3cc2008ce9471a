#include "CVAKernels.h"

// Layer norm's backward over rows of width c (llm.c's layernorm_backward):
//   forward  y = x̂ · w + b,  x̂ = (x − μ) · rstd
//   so       dw += Σ_rows g · x̂,  db += Σ_rows g,
//            dx = rstd · (g·w − mean(g·w) − x̂ · mean(g·w·x̂)).
// Swift compiled the two row reductions as scalar loops (a float sum is not reassociated
// without fast-math), 2% of a ViT training step; here they run in vector lanes.

// Columns [from, c) of one row, one at a time (the portable path, and the vector paths'
// tails): adds to the row's two sums and to dw, db.
static inline void accumulate_columns(size_t from, size_t c, const float *gr, const float *xr, const float *w, float *dw,
                                      float *db, float *total_d, float *total_dx) {
  for (size_t j = from; j < c; j++) {
    float d = w ? gr[j] * w[j] : gr[j];
    *total_d += d;
    *total_dx += d * xr[j];
    dw[j] += gr[j] * xr[j];
    db[j] += gr[j];
  }
}

// Columns [from, c) of one row of dx, given the row's means of g·w and g·w·x̂.
static inline void write_dx_columns(size_t from, size_t c, const float *gr, const float *xr, const float *w, float rstd,
                                    float mean_d, float mean_dx, float *out) {
  for (size_t j = from; j < c; j++) {
    float d = w ? gr[j] * w[j] : gr[j];
    out[j] = rstd * (d - mean_d - xr[j] * mean_dx);
  }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static void layer_norm_backward_avx512(size_t rows, size_t c, const float *g, const float *xhat, const float *rstd,
                                       const float *w, float *dx, float *dw, float *db) {
  for (size_t r = 0; r < rows; r++) {
    const float *gr = g + r * c, *xr = xhat + r * c;
    __m512 sum_d = _mm512_setzero_ps(), sum_dx = _mm512_setzero_ps();
    for (size_t j = 0; j < c; j += 16) {
      __mmask16 live = c - j >= 16 ? 0xFFFF : (__mmask16)((1u << (c - j)) - 1);
      __m512 gv = _mm512_maskz_loadu_ps(live, gr + j), xv = _mm512_maskz_loadu_ps(live, xr + j);
      __m512 d = w ? _mm512_mul_ps(gv, _mm512_maskz_loadu_ps(live, w + j)) : gv;
      sum_d = _mm512_add_ps(sum_d, d);
      sum_dx = _mm512_fmadd_ps(d, xv, sum_dx);
      _mm512_mask_storeu_ps(dw + j, live, _mm512_fmadd_ps(gv, xv, _mm512_maskz_loadu_ps(live, dw + j)));
      _mm512_mask_storeu_ps(db + j, live, _mm512_add_ps(gv, _mm512_maskz_loadu_ps(live, db + j)));
    }
    if (!dx) continue;
    __m512 mean_d = _mm512_set1_ps(_mm512_reduce_add_ps(sum_d) / (float)c);
    __m512 mean_dx = _mm512_set1_ps(_mm512_reduce_add_ps(sum_dx) / (float)c);
    __m512 scale = _mm512_set1_ps(rstd[r]);
    float *out = dx + r * c;
    for (size_t j = 0; j < c; j += 16) {
      __mmask16 live = c - j >= 16 ? 0xFFFF : (__mmask16)((1u << (c - j)) - 1);
      __m512 gv = _mm512_maskz_loadu_ps(live, gr + j), xv = _mm512_maskz_loadu_ps(live, xr + j);
      __m512 d = w ? _mm512_mul_ps(gv, _mm512_maskz_loadu_ps(live, w + j)) : gv;
      __m512 centred = _mm512_sub_ps(_mm512_sub_ps(d, mean_d), _mm512_mul_ps(xv, mean_dx));
      _mm512_mask_storeu_ps(out + j, live, _mm512_mul_ps(scale, centred));
    }
  }
}

__attribute__((target("avx2,fma")))
static float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

__attribute__((target("avx2,fma")))
static void layer_norm_backward_avx2(size_t rows, size_t c, const float *g, const float *xhat, const float *rstd,
                                     const float *w, float *dx, float *dw, float *db) {
  for (size_t r = 0; r < rows; r++) {
    const float *gr = g + r * c, *xr = xhat + r * c;
    __m256 sum_d = _mm256_setzero_ps(), sum_dx = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= c; j += 8) {
      __m256 gv = _mm256_loadu_ps(gr + j), xv = _mm256_loadu_ps(xr + j);
      __m256 d = w ? _mm256_mul_ps(gv, _mm256_loadu_ps(w + j)) : gv;
      sum_d = _mm256_add_ps(sum_d, d);
      sum_dx = _mm256_fmadd_ps(d, xv, sum_dx);
      _mm256_storeu_ps(dw + j, _mm256_fmadd_ps(gv, xv, _mm256_loadu_ps(dw + j)));
      _mm256_storeu_ps(db + j, _mm256_add_ps(gv, _mm256_loadu_ps(db + j)));
    }
    float total_d = sum8(sum_d), total_dx = sum8(sum_dx);
    accumulate_columns(j, c, gr, xr, w, dw, db, &total_d, &total_dx);
    if (!dx) continue;
    float mean_d = total_d / (float)c, mean_dx = total_dx / (float)c;
    __m256 vmean_d = _mm256_set1_ps(mean_d), vmean_dx = _mm256_set1_ps(mean_dx), scale = _mm256_set1_ps(rstd[r]);
    float *out = dx + r * c;
    for (j = 0; j + 8 <= c; j += 8) {
      __m256 gv = _mm256_loadu_ps(gr + j), xv = _mm256_loadu_ps(xr + j);
      __m256 d = w ? _mm256_mul_ps(gv, _mm256_loadu_ps(w + j)) : gv;
      __m256 centred = _mm256_sub_ps(_mm256_sub_ps(d, vmean_d), _mm256_mul_ps(xv, vmean_dx));
      _mm256_storeu_ps(out + j, _mm256_mul_ps(scale, centred));
    }
    write_dx_columns(j, c, gr, xr, w, rstd[r], mean_d, mean_dx, out);
  }
}
#endif

static void layer_norm_backward_portable(size_t rows, size_t c, const float *g, const float *xhat, const float *rstd,
                                         const float *w, float *dx, float *dw, float *db) {
  for (size_t r = 0; r < rows; r++) {
    const float *gr = g + r * c, *xr = xhat + r * c;
    float total_d = 0, total_dx = 0;
    accumulate_columns(0, c, gr, xr, w, dw, db, &total_d, &total_dx);
    if (!dx) continue;
    write_dx_columns(0, c, gr, xr, w, rstd[r], total_d / (float)c, total_dx / (float)c, dx + r * c);
  }
}

typedef void (*layer_norm_backward_fn)(size_t, size_t, const float *, const float *, const float *, const float *, float *,
                                       float *, float *);

static layer_norm_backward_fn layer_norm_backward_for_level(int level) {
#if defined(__x86_64__)
  if (level >= 2) return layer_norm_backward_avx512;
  if (level >= 1) return layer_norm_backward_avx2;
#endif
  (void)level;
  return layer_norm_backward_portable;
}

void cva_layer_norm_backward(size_t rows, size_t c, const float *g, const float *xhat, const float *rstd, const float *w,
                             float *dx, float *dw, float *db) {
  static layer_norm_backward_fn chosen = NULL;
  if (!chosen) chosen = layer_norm_backward_for_level(cva_sgemm_kernel_level());  // benign race, same value
  chosen(rows, c, g, xhat, rstd, w, dx, dw, db);
}

int cva_layer_norm_backward_at_level(int level, size_t rows, size_t c, const float *g, const float *xhat, const float *rstd,
                                     const float *w, float *dx, float *dw, float *db) {
  if (level > cva_sgemm_kernel_level()) return 0;
  layer_norm_backward_for_level(level)(rows, c, g, xhat, rstd, w, dx, dw, db);
  return 1;
}
