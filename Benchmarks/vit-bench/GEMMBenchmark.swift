import ArgumentParser
import Foundation
import VATensorCore

/// GFLOP/s of `sgemm` on the shapes a ViT uses, with 1 thread and with all cores.
struct GEMMBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "gemm", abstract: "GEMM GFLOP/s, 1 thread and all cores.")

  @Option(help: "Timed repetitions per shape (median reported).")
  var repetitions = 9

  /// (label, batch, m, n, k, transposeB)
  static let shapes: [(String, Int, Int, Int, Int, Bool)] = [
    ("1024x1024x1024", 1, 1024, 1024, 1024, false),
    ("197x1152x384", 1, 197, 1152, 384, true),
    ("197x384x384", 1, 197, 384, 384, true),
    ("197x1536x384", 1, 197, 1536, 384, true),
    ("197x384x1536", 1, 197, 384, 1536, true),
    ("197x3072x768", 1, 197, 3072, 768, true),
    ("4x197x197x64 batched", 4, 197, 197, 64, true),
  ]

  func run() {
    let all = ProcessInfo.processInfo.activeProcessorCount
    print("sgemm, \(sgemmKernel) micro-kernel; GFLOP/s, median of \(repetitions)")
    print(pad("shape (MxNxK)", 24) + pad("1 thread", 12) + "\(all) threads")
    for (label, batch, m, n, k, transposeB) in Self.shapes {
      var rng = SplitMix64(seed: 1)
      let a = (0..<(batch * m * k)).map { _ in Float(rng.nextStandardNormal()) }
      let b = (0..<(batch * k * n)).map { _ in Float(rng.nextStandardNormal()) }
      var c = [Float](repeating: 0, count: batch * m * n)
      var row = pad(label, 24)
      for threads in [1, all] {
        ComputeThreads.count = threads
        let seconds = medianSeconds(repetitions: repetitions) {
          a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
              c.withUnsafeMutableBufferPointer { pc in
                sgemmBatched(
                  .none, transposeB ? .transposed : .none, m: m, n: n, k: k,
                  a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: transposeB ? k : n,
                  c: pc.baseAddress!, ldc: n, offsets: (0..<batch).map { ($0 * m * k, $0 * k * n, $0 * m * n) })
              }
            }
          }
        }
        row += pad(String(format: "%.1f", 2 * Double(batch * m * n * k) / seconds / 1e9), 12)
      }
      print(row)
    }
  }
}
