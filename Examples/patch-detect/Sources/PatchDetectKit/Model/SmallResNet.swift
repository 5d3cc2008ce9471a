import VALayers
import VAModels
import VATensorCore

/// The trainable backbone: transformers' `ResNetModel` with basic blocks and batch norms that
/// learn (Ioffe & Szegedy 2015; DETR freezes them because it fine-tunes an ImageNet ResNet, a
/// network trained from scratch needs them): a 7×7 stride-2 stem with its norm and ReLU, a
/// 3×3 stride-2 max pool, then stages of `BasicBlock`s, the first stride 1, the others 2.
///
/// Shapes: `[B, 3, H, W]` → `[B, C_last, H/s, W/s]`, `s = 4 · 2^(stages − 1)`.
/// Names on export: transformers' (`embedder.embedder.*`, `encoder.stages.{i}.layers.{j}.layer.{0,1}.*`).
public struct SmallResNet: ParameterContainer, BufferContainer, Sendable {
  /// The stem convolution (7×7, stride 2, padding 3, no bias) and its norm.
  public var stem: Conv2D, stemNorm: BatchNorm2D
  /// The stages' blocks.
  public var stages: [[BasicBlock]]

  /// A fresh trunk: He-normal convolutions, norms at γ = 1, β = 0.
  public init<G: RandomNumberGenerator>(_ c: SmallDETRConfiguration, using rng: inout G) {
    stem = Conv2D(inputs: 3, outputs: c.stemWidth, kernel: 7, stride: 2, padding: 3, bias: false, using: &rng)
    stemNorm = BatchNorm2D(channels: c.stemWidth)
    var inputs = c.stemWidth
    var stages: [[BasicBlock]] = []
    for (s, (outputs, depth)) in zip(c.stageWidths, c.depths).enumerated() {
      stages.append(
        (0..<depth).map { j in
          defer { inputs = outputs }
          return BasicBlock(inputs: j == 0 ? inputs : outputs, outputs: outputs, stride: j == 0 && s > 0 ? 2 : 1, using: &rng)
        })
      inputs = outputs
    }
    self.stages = stages
  }

  /// Channels of the last map.
  public var outputs: Int { stages.last!.last!.conv2.outputs }

  /// The last stage's map; `training` selects batch statistics (and updates the running ones).
  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    var h = relu(stemNorm(stem(x), training: training))
    h = maxPool2d(h, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
    for stage in stages {
      for block in stage { h = block(h, training: training) }
    }
    return h
  }

  /// Parameters under transformers' `ResNetModel` names.
  public var namedParameters: [(name: String, tensor: Tensor)] { named(buffers: false) }
  /// Running statistics under transformers' names.
  public var namedBuffers: [(name: String, tensor: Tensor)] { named(buffers: true) }

  private func named(buffers: Bool) -> [(name: String, tensor: Tensor)] {
    func norm(_ prefix: String, _ bn: BatchNorm2D) -> [(name: String, tensor: Tensor)] {
      buffers ? prefixedBuffers(prefix, bn) : prefixed(prefix, bn)
    }
    func conv(_ prefix: String, _ c: Conv2D) -> [(name: String, tensor: Tensor)] { buffers ? [] : prefixed(prefix, c) }
    var out = conv("embedder.embedder.convolution", stem) + norm("embedder.embedder.normalization", stemNorm)
    for (s, stage) in stages.enumerated() {
      for (j, b) in stage.enumerated() {
        let p = "encoder.stages.\(s).layers.\(j)."
        out += conv(p + "layer.0.convolution", b.conv1) + norm(p + "layer.0.normalization", b.bn1)
        out += conv(p + "layer.1.convolution", b.conv2) + norm(p + "layer.1.normalization", b.bn2)
        if let d = b.downsample { out += conv(p + "shortcut.convolution", d.conv) + norm(p + "shortcut.normalization", d.bn) }
      }
    }
    return out
  }

  /// The same trunk with its norms frozen at their running statistics, as DETR's loader
  /// builds it (the tensors are shared, not copied).
  public var frozen: ResNetTrunk {
    func f(_ bn: BatchNorm2D) -> FrozenBatchNorm2D {
      FrozenBatchNorm2D(weight: bn.weight, bias: bn.bias, runningMean: bn.runningMean, runningVariance: bn.runningVariance, eps: bn.eps)
    }
    return ResNetTrunk(
      stem: stem, stemNorm: f(stemNorm),
      stages: stages.map { stage in
        stage.map { b in
          .basic(ResNetBasicBlock(conv1: b.conv1, bn1: f(b.bn1), conv2: b.conv2, bn2: f(b.bn2), downsample: b.downsample.map { ($0.conv, f($0.bn)) }))
        }
      })
  }
}
