#include "CVAKernels.h"
#include "vector_math.h"

// exp(x - shift) in place with the sum of the results: softmax's inner loop.

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
__attribute__((target("avx512f")))
static float exp_sum_avx512(float *x, size_t n, float shift) {
  const __m512 vshift = _mm512_set1_ps(shift);
  __m512 sum = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), vshift));
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
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vshift));
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

float cva_exp_shifted_sum(float *x, size_t n, float shift) {
  static exp_sum_fn chosen = NULL;
  if (!chosen) chosen = exp_sum_for_level(cva_sgemm_kernel_level());  // benign race, same value
  return chosen(x, n, shift);
}

float cva_exp_shifted_sum_at_level(int level, float *x, size_t n, float shift) {
  if (level > cva_sgemm_kernel_level()) return NAN;
  return exp_sum_for_level(level)(x, n, shift);
}
