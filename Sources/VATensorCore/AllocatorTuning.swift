import CVAKernels

/// Process-wide allocator settings for workloads that allocate the same large buffers every
/// step (training).
///
/// glibc serves blocks above its mmap threshold with fresh `mmap`s and trims freed memory at
/// the top of the heap back to the kernel, so each training step's activations page-fault
/// and get zero-filled again: about 15% of a small ViT's step on this project's 2-core
/// machines (`perf`: `clear_page_erms`). Raising both thresholds keeps freed blocks in the
/// heap for the next step. Process-wide, so executables opt in at start-up; a no-op off glibc.
public enum AllocatorTuning {
  /// Serves blocks up to 32 MiB (glibc's largest mmap threshold) from the heap and trims
  /// only above 1 GiB of free memory. (Setting the trim threshold alone would switch off
  /// glibc's adaptive mmap threshold and make things worse, so both are set.)
  public static func keepFreedMemoryForReuse() {
    cva_keep_freed_memory(32 << 20, 1 << 30)
  }
}
