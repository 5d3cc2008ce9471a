import ArgumentParser
import Foundation
import VAModels
import VATensorCore

/// Forward latency of ViT-Ti/S/B/16 at 224x224, batch 1 (or `--batch`), with attention recorded.
struct ViTBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "vit", abstract: "ViT forward latency at 224x224, batch 1 or --batch.")

  @Option(help: "Timed repetitions per model (median reported).")
  var repetitions = 10

  @Option(help: "Models: a comma-separated subset of ti,s,b.")
  var models = "ti,s,b"

  @Option(help: "Images per forward (a batch goes through every matrix product at once).")
  var batch = 1

  @Option(help: "Thread counts to run, comma-separated (default: 1 and all cores).")
  var threads: String?

  @Option(help: "A folder of timm checkpoints (vit_tiny/small/base_patch16_224) to load instead of random weights.")
  var weights: String?

  @Flag(name: .customLong("no-record"), help: "Do not record attention: scores in per-thread blocks (tiled above 384 tokens), no [heads, T, T] kept.")
  var noRecord = false

  func run() throws {
    // Each forward allocates the same activation buffers again; keeping freed blocks in the
    // heap saves re-faulting and zero-filling them every time (~7% of ViT-S's samples were
    // page faults in perf before this).
    AllocatorTuning.keepFreedMemoryForReuse()
    let counts = threads?.split(separator: ",").compactMap { Int($0) } ?? [1, ProcessInfo.processInfo.activeProcessorCount]
    let sizes: [(String, ViTConfiguration.Size, String)] = [("ti", .tiny, "vit_tiny_patch16_224"), ("s", .small, "vit_small_patch16_224"), ("b", .base, "vit_base_patch16_224")]
    for (key, size, timmName) in sizes where models.split(separator: ",").contains(Substring(key)) {
      let model: VisionTransformer
      if let weights {
        model = try VisionTransformer.load(from: (weights as NSString).appendingPathComponent(timmName)).model
      } else {
        var rng = SplitMix64(seed: 3)
        model = VisionTransformer(ViTConfiguration.preset(size, patchSize: 16), using: &rng)
      }
      var rng = SplitMix64(seed: 4)
      let image = Tensor.randomNormal(batch > 1 ? [batch, 3, 224, 224] : [3, 224, 224], mean: 0, std: 1, using: &rng)
      for count in counts {
        ComputeThreads.count = count
        let seconds = medianSeconds(repetitions: repetitions, warmup: 2) {
          _ = withGradientsDisabled { batch > 1 ? model(batch: image, recordAttention: !noRecord) : model(image, recordAttention: !noRecord) }
        }
        print("ViT-\(size.rawValue)/16 224x224\(batch > 1 ? " batch=\(batch)" : "") threads=\(count)\(noRecord ? " not recorded" : " recorded"): \(String(format: "%.1f", seconds * 1000)) ms")
      }
      print("peak memory so far: \(String(format: "%.0f", peakMemoryMiB())) MiB")
    }
  }
}
