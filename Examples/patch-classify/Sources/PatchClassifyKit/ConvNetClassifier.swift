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

  /// Per-channel input normalisation, written to `config.json` as `mean` and `std`.
  public var mean: [Float]
  public var std: [Float]

  public init(
    _ net: ConvNet, inputSize: Int? = nil, labelNames: [String]? = nil,
    mean: [Float] = [0.5, 0.5, 0.5], std: [Float] = [0.5, 0.5, 0.5]
  ) {
    self.net = net
    self.inputSize = inputSize
    self.labelNames = labelNames
    self.mean = mean
    self.std = std
  }

  /// A checkpoint read back by `ConvNet.load(fromCheckpointFolder:)`.
  public init(_ checkpoint: ConvNetCheckpoint) {
    self.init(checkpoint.net, inputSize: checkpoint.inputSize, labelNames: checkpoint.labelNames, mean: checkpoint.mean, std: checkpoint.std)
  }

  public mutating func logits(_ images: Tensor, training: Bool) -> Tensor { net(images, training: training) }

  /// Biases, BatchNorm's affine terms and SAGAN's γ (every parameter of rank 1 or less).
  public var parametersWithoutWeightDecay: [Tensor] { net.parameters.filter { $0.rank <= 1 } }

  /// The checkpoint folder `ConvNet.load(fromCheckpointFolder:)` reads (`ConvNetCheckpoint`'s
  /// layout): `folder/model.safetensors` (parameters and BatchNorm buffers, PyTorch-style
  /// names) and `folder/config.json` naming the architecture, with `input_size` (required to
  /// save) and `label_names` when known.
  public func save(to folder: String) throws {
    guard let inputSize else {
      throw CheckpointError.inconsistent(path: folder, reason: "a CNN checkpoint needs the input size its images have")
    }
    try ConvNetCheckpoint(net: net, inputSize: inputSize, mean: mean, std: std, labelNames: labelNames).save(to: folder)
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
