import Foundation
import VAModels
import VATensorCore

/// The small ResNet of `Models` (optionally with a SAGAN block), trained as a classifier:
/// the `cnn` and `cnn-sagan` baselines.
public struct ConvNetClassifier: ImageClassifier {
  public var net: ConvNet
  /// The side of the square images it was trained on, written to `config.json` as
  /// `input_size` `[3, side, side]` (the network itself takes any size).
  public var inputSize: Int?
  /// Class names in class-index order, written to `config.json` as `label_names`.
  public var labelNames: [String]?

  public init(_ net: ConvNet, inputSize: Int? = nil, labelNames: [String]? = nil) {
    self.net = net
    self.inputSize = inputSize
    self.labelNames = labelNames
  }

  public mutating func logits(_ images: Tensor, training: Bool) -> Tensor { net(images, training: training) }

  public var mean: [Float] { [0.5, 0.5, 0.5] }
  public var std: [Float] { [0.5, 0.5, 0.5] }

  /// Biases, BatchNorm's affine terms and SAGAN's γ (every parameter of rank 1 or less).
  public var parametersWithoutWeightDecay: [Tensor] { net.parameters.filter { $0.rank <= 1 } }

  /// `folder/model.safetensors` (parameters and BatchNorm buffers, PyTorch-style names) and
  /// `folder/config.json` naming the architecture (a checkpoint loads into a network built
  /// from the same configuration, as `SavedClassifier` does), with `input_size` and
  /// `label_names` when known.
  public func save(to folder: String) throws {
    if let labelNames, labelNames.count != net.configuration.classCount {
      throw CheckpointError.inconsistent(path: folder, reason: "\(labelNames.count) label names for \(net.configuration.classCount) classes")
    }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try net.save(to: (folder as NSString).appendingPathComponent("model.safetensors"))
    let c = net.configuration
    var config: [String: Any] = [
      "architecture": c.attention == nil ? "resnet-like" : "resnet-like+sagan",
      "stage_widths": c.stageWidths, "num_classes": c.classCount,
      "sagan_after_stage": c.attention.map { $0.afterStage as Any } ?? NSNull(),
      "mean": mean, "std": std,
    ]
    if let inputSize { config["input_size"] = [3, inputSize, inputSize] }
    if let labelNames { config["label_names"] = labelNames }
    try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
      .write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("config.json")), options: .atomic)
  }

  public var namedParameters: [(name: String, tensor: Tensor)] { net.namedParameters }
  public var namedBuffers: [(name: String, tensor: Tensor)] { net.namedBuffers }
}

extension ConvNetClassifier: EvidenceProviding {
  /// "cam": the class activation map (Zhou et al. 2016) of the predicted class, exact for a
  /// global-average-pooled linear head: `Σ_c w[k, c] · features[c]` over the last feature map.
  public mutating func evidence(_ images: Tensor) -> [EvidenceMaps] {
    let (logits, features, _) = net.forward(images, training: false)
    let (b, c, h, w) = (features.shape[0], features.shape[1], features.shape[2], features.shape[3])
    let predicted = Evaluation.argmaxRows(logits)
    let weights = net.head.weight.scalars, f = features.scalars
    return (0..<b).map { i in
      var cam = [Float](repeating: 0, count: h * w)
      for channel in 0..<c {
        let weight = weights[predicted[i] * c + channel], base = (i * c + channel) * h * w
        for p in 0..<(h * w) { cam[p] += weight * f[base + p] }
      }
      return EvidenceMaps(gridWidth: w, gridHeight: h, maps: [("cam", cam)])
    }
  }
}
