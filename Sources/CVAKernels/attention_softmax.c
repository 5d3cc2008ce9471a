#include <math.h>
#include <string.h>
#include "CVAKernels.h"

// The softmax half of plain attention, row by row, while the rows the score GEMM has just
// written are still in L1/L2: one call per query block replaces a pass over the whole
// [heads, T, T] after every head's GEMM. The operations and their order are those of the
// composed path (scores + bias, then + mask, then max, exp(s - max) summed, times 1/sum), so
// the weights come out with the same bits.

void cva_attention_softmax_rows(float *s, size_t rows, size_t n, size_t lds,
                                const float *bias, size_t ldbias, const float *mask, size_t ldmask) {
  for (size_t r = 0; r < rows; r++) {
    float *row = s + r * lds;
    if (bias) {
      const float *b = bias + r * ldbias;
      for (size_t c = 0; c < n; c++) row[c] += b[c];
    }
    if (mask) {
      const float *m = mask + r * ldmask;
      for (size_t c = 0; c < n; c++) row[c] += m[c];
    }
    float max = cva_max(row, n);
    if (max == -INFINITY) {
      // Everything masked: zero weight everywhere rather than 0/0.
      memset(row, 0, n * sizeof(float));
      continue;
    }
    float inverse = 1 / cva_exp_shifted_sum(row, n, max);
    for (size_t c = 0; c < n; c++) row[c] *= inverse;
  }
}
