#include <math.h>
#include "CKernels.h"

// exp(x - shift) in place with the sum of the results: softmax's inner loop.
//
// Vector paths use Cephes' expf scheme: x = k·ln2 + r with |r| <= ln2/2, exp(r) by a
// degree-6 polynomial (relative error about 1e-7), then scaled by 2^k. Inputs below -87.3
// (including -inf from masked entries) give exactly 0, as expf does.

#define EXP_HI 88.3762626647949f
#define EXP_LO -87.3365447504f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

static float exp_sum_portable(float *x, size_t n, float shift) {
  float total = 0;
  for (size_t i = 0; i < n; i++) {
    float e = expf(x[i] - shift);
    x[i] = e;
    total += e;
  }
  return total;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static float exp_sum_avx512(float *x, size_t n, float shift) {
  const __m512 vshift = _mm512_set1_ps(shift);
  __m512 sum = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + i), vshift);
    __mmask16 live = _mm512_cmp_ps_mask(v, _mm512_set1_ps(EXP_LO), _CMP_GE_OQ);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(EXP_LO)), _mm512_set1_ps(EXP_HI));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(LN2_HI), v);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_set1_ps(P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1));
    __m512 e = _mm512_maskz_mov_ps(live, _mm512_scalef_ps(y, k));
    _mm512_storeu_ps(x + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  return _mm512_reduce_add_ps(sum) + exp_sum_portable(x + i, n - i, shift);
}

__attribute__((target("avx2,fma")))
static float exp_sum_avx2(float *x, size_t n, float shift) {
  const __m256 vshift = _mm256_set1_ps(shift);
  __m256 sum = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i), vshift);
    __m256 live = _mm256_cmp_ps(v, _mm256_set1_ps(EXP_LO), _CMP_GE_OQ);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(EXP_LO)), _mm256_set1_ps(EXP_HI));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_HI), v);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_set1_ps(P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1));
    // 2^k through the exponent field; k is in [-126, 128) after the clamp.
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    __m256 e = _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(bits)), live);
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s) + exp_sum_portable(x + i, n - i, shift);
}
#endif

typedef float (*exp_sum_fn)(float *, size_t, float);

static exp_sum_fn exp_sum_for_level(int level) {
#if defined(__x86_64__)
  if (level >= 2) return exp_sum_avx512;
  if (level >= 1) return exp_sum_avx2;
#endif
  (void)level;
  return exp_sum_portable;
}

float ck_exp_shifted_sum(float *x, size_t n, float shift) {
  static exp_sum_fn chosen = NULL;
  if (!chosen) chosen = exp_sum_for_level(ck_sgemm_kernel_level());  // benign race, same value
  return chosen(x, n, shift);
}

float ck_exp_shifted_sum_at_level(int level, float *x, size_t n, float shift) {
  if (level > ck_sgemm_kernel_level()) return NAN;
  return exp_sum_for_level(level)(x, n, shift);
}
