import CVAKernels

/// Runs `body(i)` for every `i` in `0..<iterations` on up to `threads` threads (the caller and
/// CVAKernels' pool workers) and returns when all have run.
///
/// Iterations run concurrently and in no fixed order or thread: each must write only memory no
/// other iteration touches. The pool's workers spin for a while after each job, so the short
/// parallel regions of a forward (a GEMM's halves, a block of attention rows) start at once
/// instead of waiting tens of microseconds for a sleeping thread (`thread_pool.c`). A call from
/// inside an iteration, or while another thread's call runs, runs its iterations in order on
/// the calling thread. Returns how many threads could take part (1 when it ran inline).
@discardableResult
func parallelFor(_ iterations: Int, threads: Int = ComputeThreads.count, _ body: (Int) -> Void) -> Int {
  guard iterations > 1, threads > 1 else {
    for i in 0..<iterations { body(i) }
    return 1
  }
  return withoutActuallyEscaping(body) { body in
    var work = body
    return withUnsafeMutablePointer(to: &work) { context in
      cva_parallel_for(
        iterations, threads,
        { context, index in
          context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
        }, context)
    }
  }
}
