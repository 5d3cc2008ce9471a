import CKernels
import Foundation
import Testing
import TestSupport
@testable import TensorCore

// Timings of the non-GEMM ops at ViT-B/16 sizes (197 tokens, 768 channels, 12 heads), no-grad mode.
// Opt-in because timings need a release build and a quiet machine:
//   TENSOR_BENCH=1 swift test -c release --filter TensorCoreTests.inferenceOpTimings
@Test(.enabled(if: ProcessInfo.processInfo.environment["TENSOR_BENCH"] != nil))
func inferenceOpTimings() {
  var rng = SplitMix64(seed: 0)
  let tokens = Tensor.randomNormal([197, 768], using: &rng)
  let hidden = Tensor.randomNormal([197, 3072], using: &rng)
  let scores = Tensor.randomNormal([12, 197, 197], using: &rng)
  let gain = Tensor.ones([768]), shift = Tensor.zeros([768])
  let qkv = Tensor.randomNormal([197, 2304], using: &rng)
  func time(_ label: String, repeats: Int = 20, _ body: () -> Tensor) {
    _ = withGradientsDisabled(body)  // warm-up
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repeats { _ = withGradientsDisabled(body) }
    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(repeats)
    print("bench \(label): \(String(format: "%.3f", ms)) ms")
  }
  time("gelu exact [197, 3072]") { gelu(hidden) }
  time("gelu tanh [197, 3072]") { gelu(hidden, approximation: .tanh) }
  time("layerNorm [197, 768]") { layerNorm(tokens, weight: gain, bias: shift, eps: 1e-6) }
  time("softmax [12, 197, 197]") { softmax(scores) }
  time("add residual [197, 768]") { tokens + tokens }
  time("add bias [197, 3072] + [3072]") { hidden + Tensor.zeros([3072]) }
  time("scale [12, 197, 197]") { scores * 0.125 }
  time("qkv split+permute [197, 2304] -> 3 x [12, 197, 64]") {
    let heads = qkv.reshaped([197, 3, 12, 64]).permuted([1, 2, 0, 3])
    return heads.chunked(3, axis: 0)[0]
  }
  time("merge heads [12, 197, 64] -> [197, 768]") { scores.sliced(axis: 2, range: 0..<64).permuted([1, 0, 2]).reshaped([197, 768]) }
  time("matmul scores [12, 197, 64] x [12, 197, 64]ᵀ", repeats: 3) {
    let q = scores.sliced(axis: 2, range: 0..<64)
    return matmul(q, q, transposeB: true)
  }
}

@Test(.enabled(if: ProcessInfo.processInfo.environment["TENSOR_BENCH"] != nil))
func vectorKernelTimings() {
  let n = 1 << 20
  let src = (0..<n).map { Float($0 % 1000) / 100 - 5 }
  var dst = [Float](repeating: 0, count: n)
  func time(_ label: String, _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
    // Thread CPU time, not wall time: the shared build machine is loaded.
    var t0 = timespec(), t1 = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0)
    for _ in 0..<5 {
      src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in body(s.baseAddress!, d.baseAddress!) } }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1)
    let ns = Double(t1.tv_sec - t0.tv_sec) * 1e9 + Double(t1.tv_nsec - t0.tv_nsec)
    print("bench \(label): \(String(format: "%.2f", ns / 5 / Double(n))) ns/element (thread CPU time)")
  }
  time("libm expf") { s, d in for i in 0..<n { d[i] = Foundation.exp(s[i]) } }
  time("fastExp") { s, d in mapElements(s, d, count: n) { fastExp($0) } }
  time("libm erff") { s, d in for i in 0..<n { d[i] = Foundation.erf(s[i]) } }
  time("ck_gelu_erf (whole GELU)") { s, d in ck_gelu_erf(s, d, n) }
}
