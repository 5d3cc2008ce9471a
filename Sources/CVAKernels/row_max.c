#include <math.h>
#include "CVAKernels.h"

// Row maximum (softmax's shift). A scalar max loop is a serial chain the compiler may not
// reorder for floats (NaN and -0 rules): 3-4% of ViT-Ti samples were softmax's max pass.
static float max_portable(const float *x, size_t n) {
  float m = -INFINITY;
  for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static float max_avx512(const float *x, size_t n) {
  __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
  }
  for (; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    m0 = _mm512_max_ps(m0, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x + i));
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}
#endif

float cva_max(const float *x, size_t n) {
#if defined(__x86_64__)
  if (cva_sgemm_kernel_level() >= 2) return max_avx512(x, n);
#endif
  return max_portable(x, n);
}

float cva_max_at_level(int level, const float *x, size_t n) {
  if (level > cva_sgemm_kernel_level()) return NAN;
#if defined(__x86_64__)
  if (level >= 2) return max_avx512(x, n);
#endif
  return max_portable(x, n);
}
