import Foundation
import Testing
import VALayers
import VASafetensors
import VATensorCore
import VATestSupport
@testable import VAModels

/// SAGAN, the ConvNet presets and the page's SAGAN panel against PyTorch.
/// Written by Scripts/reference/cnn_fixtures.py (torch, seed 0). Regenerate:
/// python3 Scripts/reference/cnn_fixtures.py
///
/// Tolerance: Float32 on both sides through a few convolutions, matmuls and softmaxes,
/// summed in different orders: 1e-5 norm-wise relative (observed about 1e-7).
struct PyTorchCNNReferenceTests {
  static func file(_ name: String) throws -> SafetensorsFile {
    try SafetensorsFile(path: fixturePath("pytorch_cnn/\(name).safetensors"))
  }

  static func tensor(_ file: SafetensorsFile, _ name: String, shape: [Int]? = nil) throws -> Tensor {
    let info = try #require(file.info(name), "\(name) missing")
    return Tensor(shape: shape ?? info.shape, scalars: try file.floats(name))
  }

  /// A 1×1 conv's `[out, in, 1, 1]` weight as the `Linear` `[out, in]` SAGAN holds.
  static func linear(_ file: SafetensorsFile, _ name: String, bias: Bool = false) throws -> Linear {
    let info = try #require(file.info("\(name).weight"))
    return Linear(
      weight: try tensor(file, "\(name).weight", shape: [info.shape[0], info.shape[1]]),
      bias: bias ? try tensor(file, "\(name).bias") : nil)
  }

  /// BigGAN's `Attention`: theta → query, phi → key, g → value, o → output, max-pooled keys
  /// and values, no biases.
  @Test func saganMatchesBigGANsAttention() throws {
    let f = try Self.file("sagan_biggan")
    var rng = SplitMix64(seed: 0)
    var module = SAGANAttention(channels: 16, ratio: 8, valueForm: .bigGAN, poolsKeys: true, using: &rng)
    (module.query, module.key, module.value, module.output) = (try Self.linear(f, "theta"), try Self.linear(f, "phi"), try Self.linear(f, "g"), try Self.linear(f, "o"))
    module.gamma = try Self.tensor(f, "gamma")
    let (output, attention) = module(try Self.tensor(f, "x"))
    #expect(relativeError(output, try Self.tensor(f, "y")) < 1e-5)
    #expect(relativeError(attention, try Self.tensor(f, "beta")) < 1e-5)
    // The check can fail: with the query and key roles swapped the attention differs.
    (module.query, module.key) = (module.key, module.query)
    #expect(relativeError(module(try Self.tensor(f, "x")).attention, try Self.tensor(f, "beta")) > 0.1)
  }

  /// SAGAN's original `Self_Attn`: query/key/value convs with biases, values C → C, no
  /// pooling and no output conv (`.full`).
  @Test func saganMatchesTheOriginalSelfAttn() throws {
    let f = try Self.file("sagan_original")
    var rng = SplitMix64(seed: 0)
    var module = SAGANAttention(channels: 16, ratio: 8, valueForm: .full, using: &rng)
    module.query = try Self.linear(f, "query_conv", bias: true)
    module.key = try Self.linear(f, "key_conv", bias: true)
    module.value = try Self.linear(f, "value_conv", bias: true)
    module.gamma = try Self.tensor(f, "gamma")
    let (output, attention) = module(try Self.tensor(f, "x"))
    #expect(relativeError(output, try Self.tensor(f, "y")) < 1e-5)
    #expect(relativeError(attention, try Self.tensor(f, "attention")) < 1e-5)
    // Without the biases (the Swift module's default) the result is measurably different.
    module.query.bias = nil
    #expect(relativeError(module(try Self.tensor(f, "x")).attention, try Self.tensor(f, "attention")) > 1e-2)
  }

  /// The presets as torch modules under the same names: the state_dict loads with
  /// `ConvNet.load`, and eval-mode logits and features, training-mode logits (batch
  /// statistics) and the running mean after that step match.
  @Test(arguments: ["vgg", "resnet", "vgg_sagan"])
  func convNetPresetsMatchPyTorch(name: String) throws {
    let configuration: ConvNetConfiguration =
      switch name {
      case "resnet": .resNetLike(widths: [4, 8, 8, 16], classCount: 5)
      case "vgg_sagan": .vggLike(widths: [4, 8], classCount: 5).withAttention(.init(afterStage: 1, ratio: 2, poolsKeys: true))
      default: .vggLike(widths: [4, 8, 8, 16], classCount: 5)
      }
    var rng = SplitMix64(seed: 0)
    var net = ConvNet(configuration, using: &rng)
    try net.load(from: fixturePath("pytorch_cnn/convnet_\(name).safetensors"))
    let io = try Self.file("convnet_\(name)_io")
    let x = try Self.tensor(io, "input")
    let eval = withGradientsDisabled { net.forward(x, training: false) }
    #expect(relativeError(eval.logits, try Self.tensor(io, "eval.logits")) < 1e-5, "\(name) eval logits")
    #expect(relativeError(eval.features, try Self.tensor(io, "eval.features")) < 1e-5, "\(name) eval features")
    let train = withGradientsDisabled { net(x, training: true) }
    #expect(relativeError(train, try Self.tensor(io, "train.logits")) < 1e-5, "\(name) training logits")
    guard case .conv(let unit) = net.stages[0][0] else { Issue.record("stage 0 starts with a conv unit"); return }
    #expect(relativeError(try #require(unit.bn).runningMean, try Self.tensor(io, "train.stages.0.0.bn.running_mean")) < 1e-5)
  }

  /// The page's and figure's SAGAN panel: FeatureSAGAN's attention over a crop of the cat.
  @Test func featureSAGANMatchesPyTorch() throws {
    let f = try Self.file("feature_sagan")
    let out = FeatureSAGAN().attention(rgb: try Self.tensor(f, "rgb"))
    #expect(out.gridWidth == 8 && out.gridHeight == 6)
    #expect(relativeError(out.weights, try Self.tensor(f, "attention")) < 1e-4)  // softmax of logits up to 10
  }
}
