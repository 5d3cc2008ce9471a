// Vector building blocks shared by the element-wise kernels (exp_sum.c, gelu.c,
// gelu_backward.c): Cephes-style exp and an erf for AVX2 and AVX-512 lanes, and the scalar
// forms the loops' tails use. Private to CVAKernels; every function is static inline, so
// each kernel file compiles its own copy with its own target attributes.
#ifndef CVAKERNELS_VECTOR_MATH_H
#define CVAKERNELS_VECTOR_MATH_H

#include <math.h>
#include <stddef.h>

// Vector exp uses Cephes' expf scheme: x = k·ln2 + r with |r| <= ln2/2, exp(r) by a
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

// The scalar tails: libm's erff and expf.
static inline float gelu_scalar(float x) { return 0.5f * x * (1 + erff(x * 0.70710678118654752f)); }

// GELU's derivative: Φ(x) + x φ(x), with Φ(x) = 0.5 (1 + erf(x/√2)) and
// φ(x) = e^{-x²/2} / √(2π); the e^{-z²} of the erf above is exactly e^{-x²/2}, so one
// exponential serves both terms.
#define INV_SQRT_2PI 0.3989422804014327f
static inline float gelu_derivative_scalar(float x) {
  return 0.5f * (1 + erff(x * 0.70710678118654752f)) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
}

#if defined(__x86_64__)
#include <immintrin.h>

// exp of 16 lanes; lanes below EXP_LO (and -inf) give exactly 0.
__attribute__((target("avx512f"))) static inline __m512 exp512(__m512 v) {
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
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(y, k));
}

// exp of 8 lanes; lanes below EXP_LO (and -inf) give exactly 0.
__attribute__((target("avx2,fma"))) static inline __m256 exp256(__m256 v) {
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
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(bits)), live);
}

// GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz & Stegun 7.1.26
// (absolute error 1.5e-7): 1 - (a1 t + ... + a5 t^5) e^{-z^2}, t = 1 / (1 + p |z|).
#define AS_P 0.3275911f
#define AS_A1 0.254829592f
#define AS_A2 -0.284496736f
#define AS_A3 1.421413741f
#define AS_A4 -1.453152027f
#define AS_A5 1.061405429f

// erf(x / √2) for 16 lanes, and e^{-x²/2} (the exponential the erf approximation needs,
// which GELU's derivative reuses for φ).
__attribute__((target("avx512f"))) static inline __m512 erf_scaled512(__m512 x, __m512 *gauss) {
  __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f));
  __m512 az = _mm512_abs_ps(z);
  __m512 t = _mm512_div_ps(_mm512_set1_ps(1), _mm512_fmadd_ps(az, _mm512_set1_ps(AS_P), _mm512_set1_ps(1)));
  __m512 p = _mm512_set1_ps(AS_A5);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(AS_A4));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(AS_A3));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(AS_A2));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(AS_A1));
  __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(az, az)));
  *gauss = e;
  __m512 erf_abs = _mm512_fnmadd_ps(_mm512_mul_ps(p, t), e, _mm512_set1_ps(1));
  // erf is odd: copy z's sign onto erf(|z|) (integer and/or: the float forms need AVX-512DQ).
  __m512i sign = _mm512_and_si512(_mm512_castps_si512(z), _mm512_set1_epi32((int)0x80000000u));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(erf_abs), sign));
}

// erf(x / √2) and e^{-x²/2} for 8 lanes (see erf_scaled512).
__attribute__((target("avx2,fma"))) static inline __m256 erf_scaled256(__m256 x, __m256 *gauss) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
  __m256 az = _mm256_andnot_ps(sign_bit, z);
  __m256 t = _mm256_div_ps(_mm256_set1_ps(1), _mm256_fmadd_ps(az, _mm256_set1_ps(AS_P), _mm256_set1_ps(1)));
  __m256 p = _mm256_set1_ps(AS_A5);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(AS_A4));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(AS_A3));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(AS_A2));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(AS_A1));
  __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(az, az)));
  *gauss = e;
  __m256 erf_abs = _mm256_fnmadd_ps(_mm256_mul_ps(p, t), e, _mm256_set1_ps(1));
  return _mm256_or_ps(erf_abs, _mm256_and_ps(z, sign_bit));
}

#endif

#endif
