import ArgumentParser
import Foundation
import VAModels
import VATensorCore

/// Training throughput of a small ViT: forward, backward and an AdamW step per batch, the
/// shape of `patch-classify`'s default model. `Benchmarks/scripts/train_throughput.py` times the
/// same model in PyTorch (timm's `VisionTransformer`) for a side-by-side ratio.
struct TrainingBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "train", abstract: "ViT training throughput (images per second).")

  @Option(help: "Images per batch.") var batch = 64
  @Option(help: "Input side in pixels.") var imageSize = 64
  @Option(name: [.customLong("patch-size"), .customLong("patch")], help: "Patch side in pixels (--patch: the former name).") var patch = 8
  @Option(help: "Embedding width.") var width = 128
  @Option(help: "Transformer blocks.") var depth = 4
  @Option(name: [.customLong("head-count"), .customLong("heads")], help: "Attention heads (--heads: the former name).") var heads = 4
  @Option(help: "Classes of the head.") var classes = 6
  @Option(help: "Timed steps (median reported).") var steps = 10
  @Option(help: "Threads (default: all cores).") var threads: Int?

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    AllocatorTuning.keepFreedMemoryForReuse()
    var rng = SplitMix64(seed: 5)
    var configuration = ViTConfiguration(patchSize: patch, embedDimension: width, depth: depth, headCount: heads, imageSize: imageSize)
    configuration.classCount = classes
    let model = VisionTransformer(configuration, using: &rng)
    model.setRequiresGrad(true)
    var optimizer = AdamW(weightDecay: 0.05)
    let images = Tensor.randomNormal([batch, 3, imageSize, imageSize], mean: 0, std: 1, using: &rng)
    let labels = (0..<batch).map { $0 % classes }
    let seconds = medianSeconds(repetitions: steps, warmup: 2) {
      model.zeroGradients()
      let loss = crossEntropy(logits: model(batch: images).logits!, labels: labels, labelSmoothing: 0.1)
      loss.backward()
      clipGradientNorm(model.parameters, maxNorm: 1)
      optimizer.step(model.parameters, learningRate: 1e-3)
    }
    print(
      String(
        format: "ViT w%d d%d h%d p%d %dx%d batch %d threads=%d: %.1f ms/step, %.1f images/s",
        width, depth, heads, patch, imageSize, imageSize, batch, ComputeThreads.count, seconds * 1000, Double(batch) / seconds))
  }
}
