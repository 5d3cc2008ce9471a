// One core's fp32 FMA peak, measured: independent chains of fused multiply-adds in registers,
// no memory traffic, the upper bound any SGEMM on this core can reach. The same loop as
// Benchmarks/scripts/fma_peak.c, built into the library so `vit-bench gemm` reports the peak of
// the machine it runs on beside each shape's GFLOP/s.
#include <time.h>
#include "CVAKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// 24 chains: enough to cover two FMA ports of 4-cycle latency (8 in flight) three times over,
// so the count measures throughput on Intel's two-port cores and AMD's alike.
#define CHAINS 24
// A window of 1,000,000 rounds (24 million FMA instructions: 3-7 ms on current cores); the best
// window is reported, so a machine shared with other work still shows what its core does when
// it gets the core.
#define ROUNDS 1000000

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double peak_avx512(double seconds) {
  __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f), acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
  double start = now_seconds(), best = 0;
  do {
    double window = now_seconds();
    for (long r = 0; r < ROUNDS; r++) {
      _Pragma("clang loop unroll(full)") for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
    }
    double rate = (double)ROUNDS * CHAINS * 16 * 2 / (now_seconds() - window) / 1e9;
    if (rate > best) best = rate;
  } while (now_seconds() - start < seconds);
  __m512 sum = acc[0];
  for (int i = 1; i < CHAINS; i++) sum = _mm512_add_ps(sum, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(sum);  // keeps the chains live
  (void)sink;
  return best;
}

__attribute__((target("avx2,fma"))) static double peak_avx2(double seconds) {
  __m256 b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-7f), acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
  double start = now_seconds(), best = 0;
  do {
    double window = now_seconds();
    for (long r = 0; r < ROUNDS; r++) {
      _Pragma("clang loop unroll(full)") for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    }
    double rate = (double)ROUNDS * 12 * 8 * 2 / (now_seconds() - window) / 1e9;
    if (rate > best) best = rate;
  } while (now_seconds() - start < seconds);
  __m256 sum = acc[0];
  for (int i = 1; i < 12; i++) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return best;
}
#endif

double cva_fma_peak_gflops(double seconds) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return peak_avx512(seconds);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return peak_avx2(seconds);
#endif
  return 0;
}
