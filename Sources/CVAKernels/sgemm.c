#include <stdlib.h>
#include <string.h>
#include "CVAKernels.h"
#include "sgemm_kernels.h"
#include "sgemm_pack.h"

// A BLIS-style single-precision GEMM (Goto & van de Geijn 2008; Van Zee & van de Geijn
// 2015): C is updated in MC x NC blocks; for each KC slice, B is packed into NR-wide
// column panels and A into MR-tall row panels, so the micro-kernel streams both from
// contiguous memory while its MR x NR accumulator tile stays in registers.
//
// The micro-kernel is chosen per CPU (sgemm_kernels.c) and the block sizes follow from the
// caches of the CPU it runs on (cva_detect_caches), not from constants tuned on one machine.

/// A kernel and its block sizes on this CPU.
typedef struct {
  const cva_kernel_spec *spec;
  cva_sgemm_blocking blocking;
} micro_kernel;

static size_t clamp_size(size_t value, size_t low, size_t high) { return value < low ? low : value > high ? high : value; }

// kc: the depth of a packed slice, from L1 (the kernel's rule, cva_kc_rule), a multiple of 16.
// nc: a kc x NC block of B takes half of L2 (the other half for A's block and C's lines).
// mc: a MC x kc block of A takes a tenth of L2 (Zen 4, 1 MiB L2: 96 rows of 256, measured
// best among 48-192; a taller block delays the first reuse of each B panel).
// On Zen 4 (32 KiB L1d, 1 MiB L2) this gives the constants this driver was tuned with:
// AVX-512 kc 256, mc 96, nc 512; AVX2 kc 320.
static cva_sgemm_blocking blocking_for(const cva_kernel_spec *spec, cva_caches caches) {
  size_t mr = spec->mr, nr = spec->nr, kc;
  if (spec->kc_rule == CVA_KC_A_AND_B_IN_L1) kc = caches.l1d / ((mr + nr) * sizeof(float));
  else kc = caches.l1d * spec->l1_eighths / 8 / (nr * sizeof(float));
  kc = clamp_size(kc / 16 * 16, 64, 1024);
  size_t mc = clamp_size(caches.l2 / 10 / (kc * sizeof(float)) / mr * mr, mr, 40 * mr);
  size_t nc = clamp_size(caches.l2 / 2 / (kc * sizeof(float)) / nr * nr, 4 * nr, 256 * nr);
  return (cva_sgemm_blocking){mr, nr, mc, kc, nc};
}

static int spec_supported(const cva_kernel_spec *spec) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (spec->level >= 2) return __builtin_cpu_supports("avx512f");
  if (spec->level >= 1) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return spec->level == 0;
}

static micro_kernel kernel_at(int index) {
  static cva_caches caches;
  static int ready = 0;
  // Threads may race to detect: each computes the same sizes; the release store keeps `ready`
  // from being seen before `caches` is written.
  if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
    caches = cva_detect_caches();
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  }
  return (micro_kernel){&cva_kernel_specs[index], blocking_for(&cva_kernel_specs[index], caches)};
}

// The best supported kernel up to `limit` (0 portable, 1 AVX2, 2 AVX-512): at the highest
// level, the one shaped for this CPU's vendor, else the first of that level.
static int kernel_index_up_to(int limit) {
  int vendor = cva_cpu_vendor();
  for (int level = limit; level > 0; level--) {
    int first = -1;
    for (int i = 0; i < cva_kernel_spec_count; i++) {
      const cva_kernel_spec *spec = &cva_kernel_specs[i];
      if (spec->level != level || !spec_supported(spec)) continue;
      if (spec->vendor == vendor) return i;
      if (first < 0) first = i;
    }
    if (first >= 0) return first;
  }
  return 0;
}

int cva_sgemm_kernel_count(void) { return cva_kernel_spec_count; }

const char *cva_sgemm_kernel_name(int index) {
  return index >= 0 && index < cva_kernel_spec_count ? cva_kernel_specs[index].name : NULL;
}

int cva_sgemm_kernel_supported(int index) {
  return index >= 0 && index < cva_kernel_spec_count && spec_supported(&cva_kernel_specs[index]);
}

cva_sgemm_blocking cva_sgemm_blocking_of(int index) {
  if (index < 0 || index >= cva_kernel_spec_count) return (cva_sgemm_blocking){0, 0, 0, 0, 0};
  return kernel_at(index).blocking;
}

// CVA_SGEMM_KERNEL: a kernel's name forces it (where this CPU can run it); the older values
// "avx2" and "portable" cap the level as they always did; anything else is ignored and
// reported by cva_sgemm_kernel_request_status.
static int requested_status = CVA_KERNEL_REQUEST_NONE;

static int select_kernel(void) {
  const char *forced = getenv("CVA_SGEMM_KERNEL");
  if (!forced || !*forced) return kernel_index_up_to(2);
  if (strcmp(forced, "avx2") == 0 || strcmp(forced, "portable") == 0) {
    requested_status = CVA_KERNEL_REQUEST_APPLIED;
    return kernel_index_up_to(forced[0] == 'a' ? 1 : 0);
  }
  for (int i = 0; i < cva_kernel_spec_count; i++) {
    if (strcmp(forced, cva_kernel_specs[i].name) != 0) continue;
    requested_status = spec_supported(&cva_kernel_specs[i]) ? CVA_KERNEL_REQUEST_APPLIED : CVA_KERNEL_REQUEST_UNSUPPORTED;
    return requested_status == CVA_KERNEL_REQUEST_APPLIED ? i : kernel_index_up_to(2);
  }
  requested_status = CVA_KERNEL_REQUEST_UNKNOWN;
  return kernel_index_up_to(2);
}

int cva_sgemm_kernel_index(void) {
  static int index = -1;
  if (index < 0) index = select_kernel();  // benign race: every thread computes the same value
  return index;
}

int cva_sgemm_kernel_request_status(void) {
  (void)cva_sgemm_kernel_index();
  return requested_status;
}

static micro_kernel chosen_kernel(void) { return kernel_at(cva_sgemm_kernel_index()); }

int cva_sgemm_kernel_level(void) { return chosen_kernel().spec->level; }

static void sgemm_with(micro_kernel kernel, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                       const cva_prologue *prologue, const cva_epilogue *epilogue, float *c, size_t ldc);

// Walks the cache lines of a block of stored rows (`rows` rows of `row_bytes` bytes,
// `stride` bytes apart) and prefetches a few at a time.
//
// Why: at batch 1 every weight comes from DRAM once per forward, and packing B was a pure
// memory phase (6-8% of ViT-S's samples) with the FMA units idle. While the micro-kernels
// work on one packed block of B, the lines of the next block are requested a few per
// micro-kernel call, so its packing finds them in cache.
typedef struct {
  const char *base;
  size_t rows, row_bytes, stride;
  size_t row;          // next row to fetch
  const char *next;    // next line of `row`, or NULL before the row starts
} prefetch_cursor;

static prefetch_cursor prefetch_block(const float *base, size_t rows, size_t row_floats, size_t stride_floats) {
  return (prefetch_cursor){(const char *)base, rows, row_floats * sizeof(float), stride_floats * sizeof(float), 0, NULL};
}

static inline void prefetch_lines(prefetch_cursor *cursor, size_t lines) {
  while (lines > 0 && cursor->row < cursor->rows) {
    const char *start = cursor->base + cursor->row * cursor->stride;
    if (!cursor->next) cursor->next = (const char *)((size_t)start & ~(size_t)63);
    __builtin_prefetch(cursor->next, 0, 2);
    lines--;
    cursor->next += 64;
    if (cursor->next >= start + cursor->row_bytes) {
      cursor->row++;
      cursor->next = NULL;
    }
  }
}

// An element-wise function of the finished block of C at (row, column), row by row.
static void apply_epilogue(const cva_epilogue *epilogue, float *c, size_t ldc, size_t row, size_t column, size_t rows,
                           size_t columns) {
  if (!epilogue || epilogue->kind == CVA_EPILOGUE_NONE) return;
  for (size_t i = 0; i < rows; i++) {
    float *out = c + (row + i) * ldc + column;
    if (epilogue->kind == CVA_EPILOGUE_GELU_ERF) {
      cva_gelu_erf(out, out, columns);
    } else if (epilogue->kind == CVA_EPILOGUE_ADD) {
      const float *add = epilogue->addend + (row + i) * epilogue->ld + column;
      for (size_t j = 0; j < columns; j++) out[j] += add[j];
    }
  }
}

void cva_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta,
              float *c, size_t ldc) {
  sgemm_with(chosen_kernel(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, NULL, NULL, NULL, c, ldc);
}

void cva_sgemm_bias(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                   const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                   float *c, size_t ldc) {
  sgemm_with(chosen_kernel(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, bias, NULL, NULL, c, ldc);
}

int cva_sgemm_at_level(int level, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                      float *c, size_t ldc) {
  int index = kernel_index_up_to(level);
  if (cva_kernel_specs[index].level != level) return 0;
  sgemm_with(kernel_at(index), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, bias, NULL, NULL, c, ldc);
  return 1;
}

int cva_sgemm_with_kernel(int index, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                          const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                          const cva_prologue *prologue, const cva_epilogue *epilogue, float *c, size_t ldc) {
  if (!cva_sgemm_kernel_supported(index)) return 0;
  sgemm_with(kernel_at(index), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, bias, prologue, epilogue, c, ldc);
  return 1;
}

static void sgemm_with(micro_kernel kernel, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                       const cva_prologue *prologue, const cva_epilogue *epilogue, float *c, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (prologue && prologue->kind == CVA_PROLOGUE_NONE) prologue = NULL;
  // A layer norm normalises rows of A as stored; the Swift wrapper checks this precondition.
  if (prologue && trans_a) __builtin_trap();
  // With beta == 0 and a product to add, the first depth slice's micro-kernels store
  // alpha·A·B + bias over C (never reading it, so NaNs in C do not leak): no zeroing or bias
  // fill pass over C. Otherwise C = beta * C + bias first, then C += alpha·A·B.
  int overwrite = beta == 0 && k > 0 && alpha != 0;
  if (!overwrite) {
    for (size_t i = 0; i < m; i++) {
      float *row = c + i * ldc;
      if (beta == 0) memset(row, 0, n * sizeof(float));
      else if (beta != 1) for (size_t j = 0; j < n; j++) row[j] *= beta;
      if (bias) for (size_t j = 0; j < n; j++) row[j] += bias[j];
    }
  }
  if (k == 0 || alpha == 0) {
    apply_epilogue(epilogue, c, ldc, 0, 0, m, n);
    return;
  }
  static const float zeros[32];  // init for beta == 0 without a bias: the widest tile (32)
  const size_t mrk = kernel.blocking.mr, nrk = kernel.blocking.nr, MC = kernel.blocking.mc, kcb = kernel.blocking.kc;
  const size_t NC = kernel.blocking.nc;
  const int level = kernel.spec->level;
  // Column blocks of at most NC, split evenly (so 576 columns are one block, not 512 + 64,
  // which would pack A twice for a sliver of work).
  size_t blocks = (n + NC - 1) / NC;
  size_t nc_step = ((n + blocks - 1) / blocks + nrk - 1) / nrk * nrk;
  size_t nc_max = n < nc_step ? n : nc_step, kc_max = k < kcb ? k : kcb, mc_max = m < MC ? m : MC;
  // This thread's panels, kept between calls (sgemm_scratch.c): no allocation per GEMM.
  float *packed_b = cva_pack_scratch(1, (nc_max + nrk - 1) / nrk * nrk * kc_max * sizeof(float));
  float *packed_a = cva_pack_scratch(0, (mc_max + mrk - 1) / mrk * mrk * kc_max * sizeof(float));
  if (!packed_a || !packed_b) {
    if (overwrite) {  // the beta pass was skipped: C = bias (or 0), then the product onto it
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : 0;
    }
    cva_sgemm_reference_prologue(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, 1, prologue, c, ldc);
    apply_epilogue(epilogue, c, ldc, 0, 0, m, n);
    return;
  }
  for (size_t jc = 0; jc < n; jc += nc_step) {
    size_t nc = n - jc < nc_step ? n - jc : nc_step;
    for (size_t pc = 0; pc < k; pc += kcb) {
      size_t kc = k - pc < kcb ? k - pc : kcb;
      cva_pack_b(trans_b, kc, nc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, nrk, level >= 1, packed_b);
      // The block packed next: the next depth slice, else the first slice of the next columns.
      size_t next_jc = pc + kcb < k ? jc : jc + nc_step, next_pc = pc + kcb < k ? pc + kcb : 0;
      prefetch_cursor cursor = prefetch_block(b, 0, 0, 0);
      size_t lines_per_call = 0;
      if (next_jc < n) {
        size_t next_nc = n - next_jc < nc_step ? n - next_jc : nc_step, next_kc = k - next_pc < kcb ? k - next_pc : kcb;
        cursor = trans_b ? prefetch_block(b + next_jc * ldb + next_pc, next_nc, next_kc, ldb)
                         : prefetch_block(b + next_pc * ldb + next_jc, next_kc, next_nc, ldb);
        size_t lines = cursor.rows * (cursor.row_bytes / 64 + 2);
        size_t calls = ((nc + nrk - 1) / nrk) * ((m + mrk - 1) / mrk);
        lines_per_call = lines / calls + 1;
      }
      for (size_t ic = 0; ic < m; ic += MC) {
        size_t mc = m - ic < MC ? m - ic : MC;
        // A layer norm's statistics from this block's first row, its gamma and beta from its
        // first depth: the block is normalised as it is packed, once per column block.
        cva_prologue block_prologue = {CVA_PROLOGUE_NONE, NULL, NULL, NULL, NULL};
        if (prologue) block_prologue = cva_prologue_at(prologue, ic, pc);
        cva_pack_a(trans_a, mc, kc, alpha, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, mrk, level >= 1,
                   prologue ? &block_prologue : NULL, packed_a);
        // The next block of A (the next rows of this depth slice), requested while the
        // micro-kernels run on this one, as B's next block is: a panel's rows are short
        // streams (kc floats each) that the hardware prefetcher does not pick up in time, and
        // packing A stalled on them (9% of a ViT training step, whose activations are
        // megabytes read once per product).
        prefetch_cursor a_cursor = prefetch_block(a, 0, 0, 0);
        size_t a_lines_per_call = 0;
        if (ic + MC < m) {
          size_t next_mc = m - ic - MC < MC ? m - ic - MC : MC;
          a_cursor = trans_a ? prefetch_block(a + pc * lda + ic + MC, kc, next_mc, lda)
                             : prefetch_block(a + (ic + MC) * lda + pc, next_mc, kc, lda);
          size_t calls = ((nc + nrk - 1) / nrk) * ((mc + mrk - 1) / mrk);
          a_lines_per_call = a_cursor.rows * (a_cursor.row_bytes / 64 + 2) / calls + 1;
        }
        for (size_t jr = 0; jr < nc; jr += nrk) {
          size_t nr = nc - jr < nrk ? nc - jr : nrk;
          for (size_t ir = 0; ir < mc; ir += mrk) {
            size_t mr = mc - ir < mrk ? mc - ir : mrk;
            const float *init = overwrite && pc == 0 ? (bias ? bias + jc + jr : zeros) : NULL;
            if (mr <= 8 && mr < mrk && kernel.spec->edge)
              kernel.spec->edge(kc, packed_a + ir * kc, mrk, packed_b + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, mr, nr, init);
            else
              kernel.spec->run(kc, packed_a + ir * kc, packed_b + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, mr, nr, init);
            prefetch_lines(&cursor, lines_per_call);
            prefetch_lines(&a_cursor, a_lines_per_call);
          }
        }
        // The last depth slice finished this mc x nc block of C, still in L2: the epilogue
        // now, instead of a pass over all of C after it has left the cache.
        if (pc + kc == k) apply_epilogue(epilogue, c, ldc, ic, jc, mc, nc);
      }
    }
  }
}

void cva_sgemm_fused(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta, const float *bias,
                     const cva_prologue *prologue, const cva_epilogue *epilogue, float *c, size_t ldc) {
  sgemm_with(chosen_kernel(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, bias, prologue, epilogue, c, ldc);
}

void cva_sgemm_reference(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                        const float *a, size_t lda, const float *b, size_t ldb, float beta,
                        float *c, size_t ldc) {
  cva_sgemm_reference_prologue(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, NULL, c, ldc);
}

void cva_sgemm_reference_prologue(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                  const float *a, size_t lda, const float *b, size_t ldb, float beta,
                                  const cva_prologue *prologue, float *c, size_t ldc) {
  const cva_prologue *ln = prologue && prologue->kind == CVA_PROLOGUE_LAYER_NORM ? prologue : NULL;
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) {
      double sum = 0;
      for (size_t p = 0; p < k; p++) {
        float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        if (ln) av = cva_layer_norm_value(ln, av, i, p);  // element (i, p) of op(A), normalised
        float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += (double)av * bv;
      }
      c[i * ldc + j] = (float)(alpha * sum) + (beta == 0 ? 0 : beta * c[i * ldc + j]);
    }
  }
}
