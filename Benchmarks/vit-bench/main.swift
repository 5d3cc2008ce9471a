import ArgumentParser
import VisionAttention

/// `vit-bench`: throughput and latency of the toolkit's kernels and models.
struct VitBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vit-bench",
    abstract: "Benchmarks: GEMM and conv2d GFLOP/s, ViT forward latency, ConvNet training steps.",
    discussion: "See Benchmarks/README.md for how to run the Python peers side by side.",
    version: VisionAttentionInfo.version,
    subcommands: [GEMMBenchmark.self, ConvBenchmark.self, CNNBenchmark.self, ViTBenchmark.self, TrainingBenchmark.self, OpsBenchmark.self, ReceptiveFieldReport.self, AttentionBenchmark.self, ResolutionSweep.self])
}

VitBench.main()
