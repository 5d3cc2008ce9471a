// Internal to CVAKernels (not in include/, so not part of the module's interface).
#ifndef CVAKERNELS_SGEMM_PACK_H
#define CVAKERNELS_SGEMM_PACK_H

#include <stddef.h>

/// Packs rows [0, mc) x columns [0, kc) of alpha * op(A) (op = transpose when `trans`) into
/// mr-row panels, zero-padded; `fast_transpose` allows the AVX2 register-transposed path.
void cva_pack_a(int trans, size_t mc, size_t kc, float alpha, const float *a, size_t lda, size_t mr, int fast_transpose, float *out);

/// Packs rows [0, kc) x columns [0, nc) of op(B) into nr-column panels, zero-padded.
void cva_pack_b(int trans, size_t kc, size_t nc, const float *b, size_t ldb, size_t nr, int fast_transpose, float *out);

/// This thread's packing buffer `which` (0: A, 1: B), at least `bytes` long and 64-byte
/// aligned, kept for the thread's later calls (grown when too small); NULL if out of memory.
float *cva_pack_scratch(int which, size_t bytes);

#endif
