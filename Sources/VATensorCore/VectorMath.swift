import Foundation

/// Vectorisable `exp`, `erf` and `tanh` for the inference hot loops (softmax, GELU).
///
/// glibc's scalar `expf`/`erff`/`tanhf` cost 10–30 ns each and do not vectorise; GELU over a
/// ViT-B MLP activation (605 k elements, 12 times per image) made them a visible share of
/// inference. These kernels trade a few ULPs of error for SIMD evaluation; the scalar Foundation
/// versions remain the references (`geluReference`, `softmaxReference`) the tests compare against.

/// `eˣ` by Cody–Waite range reduction `x = n·ln2 + r`, `|r| ≤ ln2/2`, and the Cephes `expf`
/// degree-6 polynomial (relative error ≈ 1e-7). Inputs below −87.3 return exactly 0 (so `-inf`
/// masks give exactly zero weight), above 88.7 return `+inf`, NaN stays NaN.
///
/// Written as branch-free scalar code with no libm call and no trapping conversion so that LLVM
/// auto-vectorises the loops that call it (Swift's generic SIMD rounding and conversions did not
/// lower to vector instructions and ran slower than libm).
@inlinable @inline(__always) func fastExp(_ x: Float) -> Float {
  let c: Float = x > -87.3 ? (x < 88.7 ? x : 88.7) : -87.3
  // Adding 1.5·2²³ rounds to the nearest integer n and leaves n in the low mantissa bits.
  let shifted = c * 1.442_695_04 + 12_582_912
  let n = shifted - 12_582_912
  // ln2 split in two so n·ln2_hi is exact in Float.
  let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
  var p: Float = 1.987_569_15e-4
  p = p * r + 1.398_199_95e-3
  p = p * r + 8.333_451_9e-3
  p = p * r + 4.166_579_59e-2
  p = p * r + 1.666_666_55e-1
  p = p * r + 5.000_000_12e-1
  let e = p * (r * r) + r + 1
  // 2ⁿ: n + 127 into the exponent field (wrapping integer ops, so nothing traps).
  let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
  var y = e * scale
  y = x < -87.3 ? 0 : y
  y = x > 88.7 ? .infinity : y
  return x.isNaN ? x : y
}

/// `tanh(x) = 1 − 2 / (e^{2x} + 1)`; saturates correctly to ±1 through `fastExp`'s 0 and ∞.
@inlinable @inline(__always) func fastTanh(_ x: Float) -> Float {
  1 - 2 / (fastExp(2 * x) + 1)
}

/// Applies a scalar kernel over `count` elements in a plain loop that LLVM vectorises.
@inlinable @inline(__always) func mapElements(
  _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int, _ kernel: (Float) -> Float
) {
  for i in 0..<count { dst[i] = kernel(src[i]) }
}

/// Splits `0..<count` into contiguous ranges run concurrently when the work is large enough to pay
/// for thread wake-up (at least `minimumChunk` items per range; the default suits cheap
/// element-wise work); small tensors run inline on the caller's thread.
@inline(__always) func forEachElementChunk(_ count: Int, minimumChunk: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
  let workers = Swift.min(ComputeThreads.count, count / Swift.max(1, minimumChunk))
  guard workers > 1 else {
    body(0..<count)
    return
  }
  // Each worker writes a disjoint range and parallelFor joins before returning.
  parallelFor(workers, threads: workers) { w in body(workerRange(w, of: workers, count: count)) }
}

/// Worker `worker`'s part of `0..<count` cut into `workers` contiguous parts of
/// ⌈count / workers⌉: the last shorter, and any past the end empty (10 items over 7 workers
/// are parts of 2, 2, 2, 2, 2, 0, 0; cutting at `worker · 2` alone gave worker 6 the range
/// 12..<10, a crash with `--threads 7`).
@inline(__always) func workerRange(_ worker: Int, of workers: Int, count: Int) -> Range<Int> {
  let size = (count + workers - 1) / workers
  let start = Swift.min(count, worker * size)
  return start..<Swift.min(count, start + size)
}

/// Runs `body(worker)` for `workers` workers at once (one inline when `workers == 1`), for
/// kernels that split their own ranges and keep per-worker partial results.
func concurrentChunks(_ workers: Int, _ body: (Int) -> Void) {
  guard workers > 1 else {
    body(0)
    return
  }
  // Each worker writes only its own slots and parallelFor joins before returning.
  parallelFor(workers, threads: workers, body)
}

/// `[body(0), …, body(count − 1)]`, the calls split across threads as `forEachElementChunk`
/// splits a range (for independent per-channel or per-row work that returns a value).
func concurrentMap<T>(_ count: Int, minimumChunk: Int = 1, _ body: (Int) -> T) -> [T] {
  guard count > 0 else { return [] }
  return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
    let base = buffer.baseAddress!
    forEachElementChunk(count, minimumChunk: minimumChunk) { range in
      for i in range { (base + i).initialize(to: body(i)) }
    }
    initialized = count
  }
}

/// `Σ p[i]` over `count` floats in 16 independent lanes.
///
/// A plain `for` loop is one serial chain of dependent adds (the compiler may not reassociate
/// Float sums), about 4 cycles per element; LayerNorm's two row reductions were 2% of a ViT
/// forward that way. Lanes change only the rounding order.
@inline(__always) func laneSum(_ p: UnsafePointer<Float>, count: Int) -> Float {
  var acc = SIMD16<Float>(repeating: 0), i = 0
  let raw = UnsafeRawPointer(p)
  while i + 16 <= count {
    acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
    i += 16
  }
  var sum = acc.sum()
  while i < count { sum += p[i]; i += 1 }
  return sum
}

/// `Σ (p[i] − mean)²` over `count` floats in 16 independent lanes (see `laneSum`).
@inline(__always) func laneSquaredDeviations(_ p: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
  var acc = SIMD16<Float>(repeating: 0), i = 0
  let raw = UnsafeRawPointer(p), m = SIMD16<Float>(repeating: mean)
  while i + 16 <= count {
    let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - m
    acc += d * d
    i += 16
  }
  var sum = acc.sum()
  while i < count { sum += (p[i] - mean) * (p[i] - mean); i += 1 }
  return sum
}
