// Internal to CVAKernels (not in include/, so not part of the module's interface).
#ifndef CVAKERNELS_SGEMM_PACK_H
#define CVAKERNELS_SGEMM_PACK_H

#include <stddef.h>
#include "CVAKernels.h"

/// The prologue's operands for the block of A starting at (row, depth): its statistics from
/// `row`, its gamma and beta from `depth`.
static inline cva_prologue cva_prologue_at(const cva_prologue *prologue, size_t row, size_t depth) {
  return (cva_prologue){prologue->kind, prologue->mean + row, prologue->rstd + row, prologue->gamma ? prologue->gamma + depth : NULL,
                        prologue->beta ? prologue->beta + depth : NULL};
}

/// One element of a layer-normalised A: (x − mean[i]) · rstd[i] · gamma[p] + beta[p], one
/// rounding per step as VATensorCore's `layerNorm` computes it. Separate statements, so the
/// compiler does not contract a multiply and an add into an FMA (which would change the bits).
static inline float cva_layer_norm_value(const cva_prologue *ln, float x, size_t i, size_t p) {
  float centred = x - ln->mean[i];
  float normalised = centred * ln->rstd[i];
  float scaled = ln->gamma ? normalised * ln->gamma[p] : normalised;
  return ln->beta ? scaled + ln->beta[p] : scaled;
}

/// Packs rows [0, mc) x columns [0, kc) of alpha * prologue(op(A)) (op = transpose when `trans`)
/// into mr-row panels, zero-padded; `fast_transpose` allows the AVX2 register-transposed path.
/// `prologue` (NULL: none) starts at this block's first row and depth (cva_prologue_at); a
/// layer norm needs `trans` == 0.
void cva_pack_a(int trans, size_t mc, size_t kc, float alpha, const float *a, size_t lda, size_t mr, int fast_transpose,
                const cva_prologue *prologue, float *out);

/// Packs rows [0, kc) x columns [0, nc) of op(B) into nr-column panels, zero-padded.
void cva_pack_b(int trans, size_t kc, size_t nc, const float *b, size_t ldb, size_t nr, int fast_transpose, float *out);

/// This thread's packing buffer `which` (0: A, 1: B), at least `bytes` long and 64-byte
/// aligned, kept for the thread's later calls (grown when too small); NULL if out of memory.
float *cva_pack_scratch(int which, size_t bytes);

#endif
