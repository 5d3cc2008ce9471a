#include "CVAKernels.h"
#include "vector_math.h"

// GELU, exact form, element-wise: dst = 0.5 x (1 + erf(x / √2)).

#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void gelu_avx512(const float *src, float *dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 x = _mm512_loadu_ps(src + i), gauss;
    __m512 erf = erf_scaled512(x, &gauss);
    _mm512_storeu_ps(dst + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1), erf)));
  }
  for (; i < n; i++) dst[i] = gelu_scalar(src[i]);
}

__attribute__((target("avx2,fma")))
static void gelu_avx2(const float *src, float *dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(src + i), gauss;
    __m256 erf = erf_scaled256(x, &gauss);
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1), erf)));
  }
  for (; i < n; i++) dst[i] = gelu_scalar(src[i]);
}

#endif

static void gelu_portable(const float *src, float *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = gelu_scalar(src[i]);
}

typedef void (*gelu_fn)(const float *, float *, size_t);

static gelu_fn gelu_for_level(int level) {
#if defined(__x86_64__)
  if (level >= 2) return gelu_avx512;
  if (level >= 1) return gelu_avx2;
#endif
  (void)level;
  return gelu_portable;
}

void cva_gelu_erf(const float *src, float *dst, size_t n) {
  static gelu_fn chosen = NULL;
  if (!chosen) chosen = gelu_for_level(cva_sgemm_kernel_level());  // benign race, same value
  chosen(src, dst, n);
}

int cva_gelu_erf_at_level(int level, const float *src, float *dst, size_t n) {
  if (level > cva_sgemm_kernel_level()) return 0;
  gelu_for_level(level)(src, dst, n);
  return 1;
}
