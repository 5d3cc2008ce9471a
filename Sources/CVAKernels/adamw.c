// AdamW's element-wise update (Loshchilov & Hutter 2019, as torch.optim.AdamW), vectorised. The
// operations and their order are those of the scalar loop it replaces, unfused (no FMA: the
// scalar form never contracted), so the result is the same bit for bit at every level.
#include <math.h>
#include "CVAKernels.h"

#pragma clang fp contract(off)

static void adamw_portable(float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s) {
  for (size_t i = 0; i < n; i++) {
    theta[i] *= s->decay;
    m[i] = s->beta1 * m[i] + s->one_minus_beta1 * g[i];
    v[i] = s->beta2 * v[i] + s->one_minus_beta2 * g[i] * g[i];
    theta[i] -= s->lr * (m[i] / s->c1) / (sqrtf(v[i] / s->c2) + s->epsilon);
  }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static void adamw_avx512(float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s) {
  const __m512 decay = _mm512_set1_ps(s->decay), b1 = _mm512_set1_ps(s->beta1), nb1 = _mm512_set1_ps(s->one_minus_beta1);
  const __m512 b2 = _mm512_set1_ps(s->beta2), nb2 = _mm512_set1_ps(s->one_minus_beta2), lr = _mm512_set1_ps(s->lr);
  const __m512 c1 = _mm512_set1_ps(s->c1), c2 = _mm512_set1_ps(s->c2), eps = _mm512_set1_ps(s->epsilon);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 gi = _mm512_loadu_ps(g + i);
    __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(nb1, gi));
    __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(_mm512_mul_ps(nb2, gi), gi));
    __m512 ti = _mm512_mul_ps(_mm512_loadu_ps(theta + i), decay);
    __m512 step = _mm512_div_ps(_mm512_mul_ps(lr, _mm512_div_ps(mi, c1)), _mm512_add_ps(_mm512_sqrt_ps(_mm512_div_ps(vi, c2)), eps));
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    _mm512_storeu_ps(theta + i, _mm512_sub_ps(ti, step));
  }
  adamw_portable(theta + i, g + i, m + i, v + i, n - i, s);
}

__attribute__((target("avx2")))
static void adamw_avx2(float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s) {
  const __m256 decay = _mm256_set1_ps(s->decay), b1 = _mm256_set1_ps(s->beta1), nb1 = _mm256_set1_ps(s->one_minus_beta1);
  const __m256 b2 = _mm256_set1_ps(s->beta2), nb2 = _mm256_set1_ps(s->one_minus_beta2), lr = _mm256_set1_ps(s->lr);
  const __m256 c1 = _mm256_set1_ps(s->c1), c2 = _mm256_set1_ps(s->c2), eps = _mm256_set1_ps(s->epsilon);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 gi = _mm256_loadu_ps(g + i);
    __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(nb1, gi));
    __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(nb2, gi), gi));
    __m256 ti = _mm256_mul_ps(_mm256_loadu_ps(theta + i), decay);
    __m256 step = _mm256_div_ps(_mm256_mul_ps(lr, _mm256_div_ps(mi, c1)), _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(vi, c2)), eps));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(theta + i, _mm256_sub_ps(ti, step));
  }
  adamw_portable(theta + i, g + i, m + i, v + i, n - i, s);
}
#endif

int cva_adamw_step_at_level(int level, float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s) {
  if (level > cva_sgemm_kernel_level()) return 0;
#if defined(__x86_64__)
  if (level >= 2) {
    adamw_avx512(theta, g, m, v, n, s);
    return 1;
  }
  if (level >= 1) {
    adamw_avx2(theta, g, m, v, n, s);
    return 1;
  }
#endif
  adamw_portable(theta, g, m, v, n, s);
  return 1;
}

void cva_adamw_step(float *theta, const float *g, float *m, float *v, size_t n, const cva_adamw_scalars *s) {
  cva_adamw_step_at_level(cva_sgemm_kernel_level(), theta, g, m, v, n, s);
}
