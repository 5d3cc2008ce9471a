import CVAKernels

/// The CPU code paths of CVAKernels: 0 portable C, 1 AVX2+FMA, 2 AVX-512. Tests of a path
/// this CPU lacks are reported as skipped (`.enabled(if:)`), never passed silently.
/// `CVA_SGEMM_KERNEL=portable|avx2` caps the level, so an AVX-512 machine can run the whole
/// suite on the lower paths too.
enum KernelLevel {
  /// The highest level this process may use (detected, capped by `CVA_SGEMM_KERNEL`).
  static let available = Int(cva_sgemm_kernel_level())
  static let avx2 = available >= 1
  static let avx512 = available >= 2
}
