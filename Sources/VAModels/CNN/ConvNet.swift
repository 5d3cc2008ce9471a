import VALayers
import VATensorCore

/// A trainable small CNN classifier built from a `ConvNetConfiguration`: its stages, an
/// optional SAGAN block after one stage, global average pooling and a linear head.
///
/// Shapes: `x` is `[B, C_in, H, W]` (each stride-2 block halves H and W, flooring);
/// logits are `[B, classCount]`.
/// Names (PyTorch-like, `nn.ModuleList` of `nn.Sequential` stages): parameters
/// `stages.{i}.{j}.conv.weight`, `stages.{i}.{j}.bn.weight`/`.bias`, basic blocks'
/// `stages.{i}.{j}.conv1.weight` … `stages.{i}.{j}.downsample.1.bias`, `attention.query.weight`
/// … `attention.gamma`, `head.weight`, `head.bias`; buffers `stages.{i}.{j}.bn.running_mean`,
/// `….running_var` (pool blocks hold an index and no tensors).
public struct ConvNet: ParameterContainer, BufferContainer, Sendable {
  /// The architecture the network was built from.
  public let configuration: ConvNetConfiguration
  /// The built blocks, one array per stage of `configuration.stages`.
  public var stages: [[ConvNetLayer]]
  /// SAGAN over the output of stage `configuration.attention.afterStage`.
  public var attention: SAGANAttention?
  /// Global-average-pooled features → logits.
  public var head: Linear

  /// A freshly initialised network: He-normal convolutions, BN at γ = 1, β = 0, SAGAN with
  /// γ = 0 (so it starts as the identity), head as `Linear`'s default.
  public init<G: RandomNumberGenerator>(_ configuration: ConvNetConfiguration, using rng: inout G) {
    self.configuration = configuration
    var width = configuration.inputChannels
    var stages: [[ConvNetLayer]] = []
    for blocks in configuration.stages {
      var built: [ConvNetLayer] = []
      for block in blocks {
        switch block {
        case .conv(let outputs, let kernel, let stride, let padding, let dilation, let normalization, let activation):
          let conv = Conv2D(
            inputs: width, outputs: outputs, kernel: kernel, stride: stride, padding: padding,
            dilation: dilation, bias: normalization == .none, using: &rng)
          built.append(.conv(ConvUnit(conv: conv, bn: normalization == .batch ? BatchNorm2D(channels: outputs) : nil, activation: activation)))
          width = outputs
        case .pool(let kind, let kernel, let stride, let padding):
          built.append(.pool(kind, kernel: kernel, stride: stride, padding: padding))
        case .basic(let outputs, let stride):
          built.append(.basic(BasicBlock(inputs: width, outputs: outputs, stride: stride, using: &rng)))
          width = outputs
        }
      }
      stages.append(built)
    }
    self.stages = stages
    if let a = configuration.attention {
      attention = SAGANAttention(
        channels: configuration.stageWidths[a.afterStage], ratio: a.ratio, valueForm: a.valueForm,
        poolsKeys: a.poolsKeys, spectralNorm: a.spectralNorm, using: &rng)
    }
    head = Linear(inputs: width, outputs: configuration.classCount, using: &rng)
  }

  /// Logits `[B, classCount]` for images `[B, C_in, H, W]`.
  /// - Parameter training: BatchNorm uses (and updates) batch statistics, and spectral
  ///   normalisation advances its power iteration; `false` for evaluation.
  public mutating func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    forward(x, training: training).logits
  }

  /// Logits, the last feature map `[B, C, H′, W′]` before pooling, and the SAGAN attention
  /// `[B, H_a·W_a, M]` when the network has the block.
  public mutating func forward(_ x: Tensor, training: Bool) -> (logits: Tensor, features: Tensor, attention: Tensor?) {
    precondition(
      x.rank == 4 && x.shape[1] == configuration.inputChannels,
      "ConvNet expects [B, \(configuration.inputChannels), H, W], got \(x.shape)")
    var y = x
    var weights: Tensor? = nil
    for (i, stage) in stages.enumerated() {
      for layer in stage { y = layer(y, training: training) }
      if configuration.attention?.afterStage == i, var block = attention {
        (y, weights) = block(y, training: training)
        attention = block  // spectral norm's power-iteration vectors are state
      }
    }
    let pooled = y.mean(axes: [2, 3])  // [B, C]: global average pooling
    return (head(pooled), y, weights)
  }

  /// Every parameter under the names listed above, stages first, then `attention.*`, then `head.*`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out: [(name: String, tensor: Tensor)] = []
    for (i, stage) in stages.enumerated() {
      for (j, layer) in stage.enumerated() { out += layer.namedParameters.map { ("stages.\(i).\(j).\($0.name)", $0.tensor) } }
    }
    if let attention { out += prefixed("attention", attention) }
    return out + prefixed("head", head)
  }

  /// Every BN running statistic, `stages.{i}.{j}.….running_mean` / `running_var`.
  public var namedBuffers: [(name: String, tensor: Tensor)] {
    var out: [(name: String, tensor: Tensor)] = []
    for (i, stage) in stages.enumerated() {
      for (j, layer) in stage.enumerated() { out += layer.namedBuffers.map { ("stages.\(i).\(j).\($0.name)", $0.tensor) } }
    }
    return out
  }
}
