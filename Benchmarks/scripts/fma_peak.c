/* One core's fp32 FMA peak: 12 independent chains of AVX-512 fused multiply-adds, the
   upper bound any SGEMM on this core can reach (the floor argument for faithfulness curves,
   Benchmarks/logs/fma-peak-2026-11-30.log). Build and run: gcc -O3 -mavx512f -mfma
   Benchmarks/scripts/fma_peak.c -o fma_peak && ./fma_peak (two at once for two cores). */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

int main(void) {
  __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
  __m512 a0=_mm512_set1_ps(0),a1=_mm512_set1_ps(1),a2=_mm512_set1_ps(2),a3=_mm512_set1_ps(3),a4=_mm512_set1_ps(4),a5=_mm512_set1_ps(5),a6=_mm512_set1_ps(6),a7=_mm512_set1_ps(7),a8=_mm512_set1_ps(8),a9=_mm512_set1_ps(9),a10=_mm512_set1_ps(10),a11=_mm512_set1_ps(11);
  long iters = 200000000;
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long n = 0; n < iters; n++) {
    a0=_mm512_fmadd_ps(a0,b,c);a1=_mm512_fmadd_ps(a1,b,c);a2=_mm512_fmadd_ps(a2,b,c);a3=_mm512_fmadd_ps(a3,b,c);
    a4=_mm512_fmadd_ps(a4,b,c);a5=_mm512_fmadd_ps(a5,b,c);a6=_mm512_fmadd_ps(a6,b,c);a7=_mm512_fmadd_ps(a7,b,c);
    a8=_mm512_fmadd_ps(a8,b,c);a9=_mm512_fmadd_ps(a9,b,c);a10=_mm512_fmadd_ps(a10,b,c);a11=_mm512_fmadd_ps(a11,b,c);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  __m512 t = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0,a1),_mm512_add_ps(a2,a3)),_mm512_add_ps(_mm512_add_ps(a4,a5),_mm512_add_ps(a6,a7)));
  t = _mm512_add_ps(t, _mm512_add_ps(_mm512_add_ps(a8,a9),_mm512_add_ps(a10,a11)));
  printf("%.1f GFLOP/s (one core, AVX-512 FMA fp32, 12 chains) checksum %g\n", iters * 12.0 * 16 * 2 / s / 1e9, _mm512_reduce_add_ps(t));
  return 0;
}
