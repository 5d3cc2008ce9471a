import ArgumentParser
import Foundation
import VATensorCore

/// GFLOP/s of conv2d (im2col + sgemm) on a 3x3, 64 -> 64 channel, 56x56 layer.
struct ConvBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "conv", abstract: "conv2d GFLOP/s (3x3, 64->64, 56x56, padding 1).")

  @Option(help: "Timed repetitions (median reported).")
  var repetitions = 9

  func run() {
    var rng = SplitMix64(seed: 2)
    let x = Tensor.randomNormal([1, 64, 56, 56], mean: 0, std: 1, using: &rng)
    let w = Tensor.randomNormal([64, 64, 3, 3], mean: 0, std: 0.1, using: &rng)
    let flops = 2.0 * 64 * 56 * 56 * 64 * 9
    let all = ProcessInfo.processInfo.activeProcessorCount
    for threads in [1, all] {
      ComputeThreads.count = threads
      let seconds = medianSeconds(repetitions: repetitions) {
        _ = withGradientsDisabled { conv2d(x, weight: w, bias: nil, stride: (1, 1), padding: (1, 1)) }
      }
      print("conv2d 3x3 64->64 56x56, \(threads) thread\(threads == 1 ? "" : "s"): \(String(format: "%.1f", flops / seconds / 1e9)) GFLOP/s (\(String(format: "%.2f", seconds * 1000)) ms)")
    }
  }
}
