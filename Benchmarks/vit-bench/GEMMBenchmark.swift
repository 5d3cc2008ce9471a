import ArgumentParser
import Foundation
import VATensorCore

/// GFLOP/s of `sgemm` on the shapes a ViT uses, with 1 thread and with all cores, and each as a
/// fraction of the CPU's FMA peak measured in the same run (one core's, and all cores').
///
/// The table's first three columns (shape, 1 thread, all threads) keep their order for scripts
/// that read them; the fractions follow.
struct GEMMBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gemm", abstract: "GEMM GFLOP/s, 1 thread and all cores, and their fraction of the measured FMA peak.")

  @Option(help: "Timed repetitions per shape (median reported).")
  var repetitions = 9

  @Option(help: "Seconds spent measuring one core's FMA peak (its best window of a few ms is the peak).")
  var peakSeconds = 1.0

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
    let peak = fmaPeakGFLOPS(seconds: peakSeconds)
    print("CPU: \(cpuName()); \(CPUCaches.detected)")
    print(String(format: "FMA peak: %.1f GFLOP/s per core (measured, best window of a few ms), %.1f for %d cores", peak, peak * Double(all), all))
    if let problem = SGEMMKernel.requestProblem { print("warning: \(problem)") }
    print("sgemm, \(sgemmKernel) micro-kernel; GFLOP/s, median of \(repetitions)")
    print(pad("shape (MxNxK)", 24) + pad("1 thread", 12) + pad("\(all) threads", 12) + pad("1t/peak", 10) + "\(all)t/(\(all)·peak)")
    for (label, batch, m, n, k, transposeB) in Self.shapes {
      var rng = SplitMix64(seed: 1)
      let a = (0..<(batch * m * k)).map { _ in Float(rng.nextStandardNormal()) }
      let b = (0..<(batch * k * n)).map { _ in Float(rng.nextStandardNormal()) }
      var c = [Float](repeating: 0, count: batch * m * n)
      var row = pad(label, 24), rates: [Double] = []
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
        rates.append(2 * Double(batch * m * n * k) / seconds / 1e9)
        row += pad(String(format: "%.1f", rates.last!), 12)
      }
      if peak > 0 {
        row += pad(String(format: "%.2f", rates[0] / peak), 10) + String(format: "%.2f", rates[1] / (peak * Double(all)))
      }
      print(row)
    }
  }
}

/// The CPU's model name from /proc/cpuinfo ("AMD EPYC"), or "unknown CPU".
func cpuName() -> String {
  guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
  for line in text.split(separator: "\n") where line.hasPrefix("model name") {
    if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
  }
  return "unknown CPU"
}
