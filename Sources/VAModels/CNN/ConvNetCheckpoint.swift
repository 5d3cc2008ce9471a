import Foundation
import VALayers
import VATensorCore

/// A trained `ConvNet` with what its checkpoint folder says about its inputs and classes:
/// the folder `patch-classify --model cnn|cnn-sagan` writes as `RUN/checkpoint`.
///
/// Layout: `model.safetensors` (`ConvNet.save(to:)`: every parameter and BatchNorm buffer
/// under PyTorch-style names) and `config.json`:
/// ```json
/// {"architecture": "resnet-like", "stage_widths": [32, 64, 128, 256], "num_classes": 6,
///  "sagan_after_stage": null, "input_size": [3, 64, 64],
///  "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "label_names": ["circle", ...]}
/// ```
/// `architecture` is `resnet-like` (`ConvNetConfiguration.resNetLike(widths: stage_widths)`)
/// or `resnet-like+sagan`, the same with a SAGAN block (`withAttention`) after stage
/// `sagan_after_stage`, whose settings are `sagan_ratio` (8), `sagan_value_form` (`bigGAN`),
/// `sagan_pools_keys` (false) and `sagan_spectral_norm` (false): written by `save`, and read
/// as the defaults in brackets when missing, which are the only settings checkpoints from
/// before these keys (all from `patch-classify --model cnn-sagan`) were trained with. `input_size`
/// `[3, side, side]` is the side of the square images it was trained on; `label_names`
/// is optional.
public struct ConvNetCheckpoint: Sendable {
  /// `config.json`'s `architecture` values, without and with the SAGAN block.
  public static let architectures = ["resnet-like", "resnet-like+sagan"]

  /// The network with the checkpoint's weights and BN statistics.
  public var net: ConvNet
  /// The side of the square images the network was trained on (`input_size`).
  public var inputSize: Int
  /// Per-channel normalisation of 0…1 RGB values, `(x − mean) / std`.
  public var mean: [Float]
  /// Per-channel divisor of the normalisation above (3 values).
  public var std: [Float]
  /// Class names in class-index order, when the checkpoint has them.
  public var labelNames: [String]?
  /// The folder it was loaded from, if it was.
  public var folder: String?

  /// A checkpoint from a network (e.g. one just trained); a precondition checks that `mean` and
  /// `std` have 3 values each.
  public init(
    net: ConvNet, inputSize: Int, mean: [Float] = [0.5, 0.5, 0.5], std: [Float] = [0.5, 0.5, 0.5],
    labelNames: [String]? = nil, folder: String? = nil
  ) {
    precondition(mean.count == 3 && std.count == 3, "mean and std need 3 values, got \(mean.count) and \(std.count)")
    self.net = net
    self.inputSize = inputSize
    self.mean = mean
    self.std = std
    self.labelNames = labelNames
    self.folder = folder
  }

  /// Outputs of the classifier head.
  public var classCount: Int { net.configuration.classCount }

  /// `resnet-like` or `resnet-like+sagan`.
  public var architecture: String { Self.architectures[net.configuration.attention == nil ? 0 : 1] }

  /// `config.json`'s object for this checkpoint.
  public var config: [String: Any] {
    let c = net.configuration
    var config: [String: Any] = [
      "architecture": architecture, "stage_widths": c.stageWidths, "num_classes": c.classCount,
      "sagan_after_stage": c.attention.map { $0.afterStage as Any } ?? NSNull(),
      "mean": mean, "std": std, "input_size": [3, inputSize, inputSize],
    ]
    if let attention = c.attention {
      config["sagan_ratio"] = attention.ratio
      config["sagan_value_form"] = attention.valueForm.rawValue
      config["sagan_pools_keys"] = attention.poolsKeys
      config["sagan_spectral_norm"] = attention.spectralNorm
    }
    if let labelNames { config["label_names"] = labelNames }
    return config
  }

  /// Writes `folder/model.safetensors` and `folder/config.json`, each through a temporary
  /// file and a rename, making `folder` if needed.
  /// - Throws: `CheckpointError.inconsistent` when `labelNames` does not hold one name per
  ///   class; file-system errors.
  public func save(to folder: String) throws {
    if let labelNames, labelNames.count != classCount {
      throw CheckpointError.inconsistent(path: folder, reason: "\(labelNames.count) label names for \(classCount) classes")
    }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try net.save(to: (folder as NSString).appendingPathComponent("model.safetensors"))
    try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
      .write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("config.json")), options: .atomic)
  }
}

extension ConvNet {
  /// Loads a CNN checkpoint folder (`ConvNetCheckpoint`'s layout): the network is rebuilt
  /// from `config.json` and its values read from `model.safetensors` (`load(from:)`).
  /// Parameters do not require gradients.
  /// - Throws: `CheckpointError.badConfig` for a missing folder or `config.json`, one that is
  ///   not a CNN checkpoint's (another `architecture`, such as a ViT's) or a missing or
  ///   malformed key; `.noWeights` without `model.safetensors`; the weight loader's errors (a
  ///   missing tensor, a shape that differs from the config's network).
  public static func load(fromCheckpointFolder folder: String) throws(CheckpointError) -> ConvNetCheckpoint {
    let configPath = (folder as NSString).appendingPathComponent("config.json")
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw .badConfig(path: folder, reason: "no such checkpoint folder (expected RUN/checkpoint with model.safetensors and config.json)")
    }
    guard let data = FileManager.default.contents(atPath: configPath) else {
      throw .badConfig(path: configPath, reason: "missing (a CNN checkpoint holds config.json beside model.safetensors)")
    }
    guard let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw .badConfig(path: configPath, reason: "not a JSON object")
    }
    let (configuration, side, mean, std, labels) = try parse(config, path: configPath)
    let weights = (folder as NSString).appendingPathComponent("model.safetensors")
    guard FileManager.default.fileExists(atPath: weights) else { throw .noWeights(folder: folder) }
    // Every value is replaced by the file's; the seed only gives the tensors their shapes.
    var rng = SplitMix64(seed: 0)
    var net = ConvNet(configuration, using: &rng)
    try net.load(from: weights)
    net.setRequiresGrad(false)
    return ConvNetCheckpoint(net: net, inputSize: side, mean: mean, std: std, labelNames: labels, folder: folder)
  }

  /// The configuration and input settings `config` describes.
  static func parse(
    _ config: [String: Any], path: String
  ) throws(CheckpointError) -> (ConvNetConfiguration, Int, [Float], [Float], [String]?) {
    let architecture = config["architecture"] as? String
    guard let architecture, ConvNetCheckpoint.architectures.contains(architecture) else {
      let found = architecture.map { "architecture '\($0)'" } ?? "no architecture"
      throw .badConfig(path: path, reason: "not a CNN checkpoint: \(found), expected \(ConvNetCheckpoint.architectures.joined(separator: " or ")) (the RUN/checkpoint folder of patch-classify --model cnn or cnn-sagan)")
    }
    guard let widths = config["stage_widths"] as? [Int], !widths.isEmpty, widths.allSatisfy({ $0 > 0 }) else {
      throw .badConfig(path: path, reason: "stage_widths is missing or not a list of positive integers")
    }
    guard let classes = config["num_classes"] as? Int, classes > 0 else {
      throw .badConfig(path: path, reason: "num_classes is missing or not a positive integer")
    }
    guard let size = config["input_size"] as? [Int], size.count == 3, size[0] == 3, size[1] == size[2], size[1] >= 2 else {
      throw .badConfig(path: path, reason: "input_size is missing or not [3, side, side] (checkpoints from before it was written cannot say what size the network takes)")
    }
    // A checkpoint without its normalisation would be fed differently scaled inputs: refuse.
    guard let mean = (config["mean"] as? [Double])?.map(Float.init), mean.count == 3 else {
      throw .badConfig(path: path, reason: "mean is missing or not 3 numbers")
    }
    guard let std = (config["std"] as? [Double])?.map(Float.init), std.count == 3, std.allSatisfy({ $0 > 0 }) else {
      throw .badConfig(path: path, reason: "std is missing or not 3 positive numbers")
    }
    var labels: [String]?
    if let value = config["label_names"], !(value is NSNull) {
      guard let names = value as? [String] else { throw .badConfig(path: path, reason: "label_names is not a list of strings") }
      guard names.count == classes else { throw .badConfig(path: path, reason: "\(names.count) label_names for \(classes) classes") }
      labels = names
    }
    var configuration = ConvNetConfiguration.resNetLike(widths: widths, classCount: classes)
    if architecture == "resnet-like+sagan" {
      guard let stage = config["sagan_after_stage"] as? Int, widths.indices.contains(stage) else {
        throw .badConfig(path: path, reason: "sagan_after_stage is missing or not a stage index (0...\(widths.count - 1))")
      }
      let attention = try parseAttention(config, afterStage: stage, path: path)
      // SAGAN splits the width into queries (C / ratio) and values (C / 2).
      guard widths[stage] % attention.ratio == 0, widths[stage] % 2 == 0 else {
        throw .badConfig(path: path, reason: "stage \(stage)'s width \(widths[stage]) does not divide by SAGAN's ratio \(attention.ratio) and by 2")
      }
      configuration = configuration.withAttention(attention)
    }
    return (configuration, size[1], mean, std, labels)
  }

  /// The SAGAN block's settings, each at its default when its key is missing.
  static func parseAttention(_ config: [String: Any], afterStage stage: Int, path: String) throws(CheckpointError) -> ConvNetConfiguration.Attention {
    var attention = ConvNetConfiguration.Attention(afterStage: stage)
    if let value = config["sagan_ratio"] {
      guard let ratio = value as? Int, ratio > 0 else { throw .badConfig(path: path, reason: "sagan_ratio is not a positive integer") }
      attention.ratio = ratio
    }
    if let value = config["sagan_value_form"] {
      let forms = SAGANAttention.ValueForm.allCases.map(\.rawValue)
      guard let name = value as? String, let form = SAGANAttention.ValueForm(rawValue: name) else {
        throw .badConfig(path: path, reason: "sagan_value_form is not one of \(forms.joined(separator: ", "))")
      }
      attention.valueForm = form
    }
    let flags: [(String, WritableKeyPath<ConvNetConfiguration.Attention, Bool>)] = [("sagan_pools_keys", \.poolsKeys), ("sagan_spectral_norm", \.spectralNorm)]
    for (key, setting) in flags {
      guard let value = config[key] else { continue }
      guard let flag = value as? Bool else { throw .badConfig(path: path, reason: "\(key) is not true or false") }
      attention[keyPath: setting] = flag
    }
    return attention
  }
}
