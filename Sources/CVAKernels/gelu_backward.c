#include "CVAKernels.h"
#include "vector_math.h"

// GELU's backward, element-wise: dx = grad · (Φ(x) + x φ(x)).

#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void gelu_backward_avx512(const float *src, const float *grad, float *dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 x = _mm512_loadu_ps(src + i), gauss;
    __m512 cdf = _mm512_mul_ps(_mm512_set1_ps(0.5f), _mm512_add_ps(_mm512_set1_ps(1), erf_scaled512(x, &gauss)));
    __m512 d = _mm512_fmadd_ps(_mm512_mul_ps(x, _mm512_set1_ps(INV_SQRT_2PI)), gauss, cdf);
    _mm512_storeu_ps(dst + i, _mm512_mul_ps(d, _mm512_loadu_ps(grad + i)));
  }
  for (; i < n; i++) dst[i] = grad[i] * gelu_derivative_scalar(src[i]);
}

__attribute__((target("avx2,fma")))
static void gelu_backward_avx2(const float *src, const float *grad, float *dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(src + i), gauss;
    __m256 cdf = _mm256_mul_ps(_mm256_set1_ps(0.5f), _mm256_add_ps(_mm256_set1_ps(1), erf_scaled256(x, &gauss)));
    __m256 d = _mm256_fmadd_ps(_mm256_mul_ps(x, _mm256_set1_ps(INV_SQRT_2PI)), gauss, cdf);
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(d, _mm256_loadu_ps(grad + i)));
  }
  for (; i < n; i++) dst[i] = grad[i] * gelu_derivative_scalar(src[i]);
}
#endif

static void gelu_backward_portable(const float *src, const float *grad, float *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = grad[i] * gelu_derivative_scalar(src[i]);
}

typedef void (*gelu_backward_fn)(const float *, const float *, float *, size_t);

static gelu_backward_fn gelu_backward_for_level(int level) {
#if defined(__x86_64__)
  if (level >= 2) return gelu_backward_avx512;
  if (level >= 1) return gelu_backward_avx2;
#endif
  (void)level;
  return gelu_backward_portable;
}

void cva_gelu_erf_backward(const float *x, const float *grad, float *dx, size_t n) {
  static gelu_backward_fn chosen = NULL;
  if (!chosen) chosen = gelu_backward_for_level(cva_sgemm_kernel_level());  // benign race, same value
  chosen(x, grad, dx, n);
}

int cva_gelu_erf_backward_at_level(int level, const float *x, const float *grad, float *dx, size_t n) {
  if (level > cva_sgemm_kernel_level()) return 0;
  gelu_backward_for_level(level)(x, grad, dx, n);
  return 1;
}
