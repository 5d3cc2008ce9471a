// Internal to CVAKernels (not in include/, so not part of the module's interface).
#ifndef CVAKERNELS_SGEMM_KERNELS_H
#define CVAKERNELS_SGEMM_KERNELS_H

#include <stddef.h>

/// Computes one mr x nr tile of C from a packed kc x MR panel of A and a kc x NR panel of B.
/// `init` NULL: C += the tile (a later depth slice, or beta != 0). Otherwise the first depth
/// slice with beta == 0: C = the tile + init[j] (the bias, or zeros), so C is never zeroed or
/// filled beforehand and never read back.
typedef void (*cva_micro_kernel_fn)(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t mr, size_t nr,
                                    const float *init);

/// The same for the last 1-8 rows of a panel packed `a_stride` rows tall.
typedef void (*cva_edge_kernel_fn)(size_t kc, const float *a, size_t a_stride, const float *b, float *c, size_t ldc, size_t mr,
                                   size_t nr, const float *init);

/// How a kernel's depth slice kc follows from the L1 data cache (see cva_sgemm_blocking_of).
typedef enum {
  /// The kc x NR micro-panel of B takes `l1_eighths`/8 of L1 (measured best on Zen 4: all of it
  /// for the AVX-512 tile, 5/8 for the AVX2 one).
  CVA_KC_B_SHARE_OF_L1,
  /// Both micro-panels, kc x NR of B and MR x kc of A, fit in L1 together (the analytical
  /// model of Low et al. 2016, for cores whose L1 is large enough to hold both: Intel's 48 KiB).
  CVA_KC_A_AND_B_IN_L1,
} cva_kc_rule;

/// A micro-kernel, the tile it computes and what it needs.
typedef struct {
  const char *name;
  cva_micro_kernel_fn run;
  cva_edge_kernel_fn edge;  // for panels of at most 8 rows; NULL: `run` takes them
  size_t mr, nr;      // rows of A by columns of B per tile
  int level;          // the instruction set it needs: 0 portable, 1 AVX2+FMA, 2 AVX-512F
  int vendor;         // the family it is shaped for (CVA_VENDOR_*); CVA_VENDOR_OTHER: any
  cva_kc_rule kc_rule;
  unsigned l1_eighths;  // for CVA_KC_B_SHARE_OF_L1
} cva_kernel_spec;

/// Every micro-kernel, lowest level first; index = the `index` of the public API.
extern const cva_kernel_spec cva_kernel_specs[];
extern const int cva_kernel_spec_count;

#endif
