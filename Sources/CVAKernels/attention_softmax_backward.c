#include "CVAKernels.h"

// The softmax half of attention's backward, row by row (see the header). Sixteen partial sums
// let the compiler keep the dot product in vector registers without reassociating a single
// running sum, which it may not do under strict IEEE rules.

void cva_attention_softmax_backward_rows(const float *p, size_t ldp, float *dp, size_t lddp, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; r++) {
    const float *pr = p + r * ldp;
    float *g = dp + r * lddp;
    float partial[16] = {0};
    size_t c = 0;
    for (; c + 16 <= n; c += 16)
      for (size_t j = 0; j < 16; j++) partial[j] += pr[c + j] * g[c + j];
    float dot = 0;
    for (; c < n; c++) dot += pr[c] * g[c];
    for (size_t j = 0; j < 16; j++) dot += partial[j];
    for (c = 0; c < n; c++) g[c] = pr[c] * (g[c] - dot);
  }
}
