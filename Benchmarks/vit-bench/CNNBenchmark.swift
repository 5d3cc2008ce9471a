import ArgumentParser
import Foundation
import VAModels
import VATensorCore

/// One training step (forward, cross-entropy, backward) of the ConvNet presets at the
/// ShapeWorld trainer's size: batch 64, 64x64 RGB, widths 32-64-128-256.
struct CNNBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "cnn", abstract: "ConvNet training-step latency (forward + backward), batch 64, 64x64.")

  enum Model: String, CaseIterable, ExpressibleByArgument { case vgg, vgg1, resnet, vggSagan = "vgg-sagan" }

  @Option(help: "Models, comma-separated: \(Model.allCases.map(\.rawValue).joined(separator: ", ")).")
  var models = "vgg,vgg1,resnet,vgg-sagan"

  @Option(help: "Images per batch.")
  var batch = 64

  @Option(help: "Image side in pixels.")
  var size = 64

  @Option(help: "Timed repetitions per model (median reported).")
  var repetitions = 3

  func run() throws {
    AllocatorTuning.keepFreedMemoryForReuse()
    print("threads: \(ComputeThreads.count); batch \(batch), \(size)x\(size); median of \(repetitions)")
    for name in models.split(separator: ",") {
      guard let model = Model(rawValue: String(name)) else { throw ValidationError("unknown model '\(name)'") }
      let configuration: ConvNetConfiguration =
        switch model {
        case .vgg: .vggLike(classCount: 10)
        case .vgg1: .vggLike(convsPerStage: 1, classCount: 10)
        case .resnet: .resNetLike(classCount: 10)
        case .vggSagan: ConvNetConfiguration.vggLike(classCount: 10).withAttention(.init(afterStage: 1))
        }
      var rng = SplitMix64(seed: 1)
      var net = ConvNet(configuration, using: &rng)
      net.setRequiresGrad(true)
      let x = Tensor.randomNormal([batch, 3, size, size], using: &rng)
      let labels = (0..<batch).map { $0 % 10 }
      let forward = medianSeconds(repetitions: repetitions, warmup: 1) {
        _ = withGradientsDisabled { net(x, training: true) }
      }
      let step = medianSeconds(repetitions: repetitions, warmup: 1) {
        net.zeroGradients()
        crossEntropy(logits: net(x, training: true), labels: labels).backward()
      }
      print(
        pad(model.rawValue, 12) + pad("\(net.parameterCount) params", 18)
          + pad(String(format: "forward %.0f ms", forward * 1000), 20) + String(format: "step %.0f ms", step * 1000))
    }
    print("peak memory: \(String(format: "%.0f", peakMemoryMiB())) MiB")
  }
}
