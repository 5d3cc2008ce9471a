import VALayers
import VATensorCore

/// Convolution → optional BatchNorm → optional ReLU (one `ConvNetConfiguration.Block.conv`).
///
/// Shapes: `[N, C_in, H, W]` → `[N, C_out, H_out, W_out]`. Names: `conv.weight`
/// (`conv.bias` without BN), `bn.weight`, `bn.bias`; buffers `bn.running_mean`, `bn.running_var`.
public struct ConvUnit: ParameterContainer, BufferContainer, Sendable {
  public var conv: Conv2D
  public var bn: BatchNorm2D?
  public var activation: ConvNetConfiguration.Activation

  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    var y = conv(x)
    if let bn { y = bn(y, training: training) }
    return activation == .relu ? relu(y) : y
  }

  public var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("conv", conv) + (bn.map { prefixed("bn", $0) } ?? [])
  }
  public var namedBuffers: [(name: String, tensor: Tensor)] { bn.map { prefixedBuffers("bn", $0) } ?? [] }
}

/// A ResNet basic block (He et al. 2016, Fig. 2 left; torchvision's `BasicBlock`):
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
///
/// Shapes: `[N, C_in, H, W]` → `[N, C_out, H/s, W/s]`. Names as torchvision: `conv1`, `bn1`,
/// `conv2`, `bn2`, and `downsample.0` (1×1 conv), `downsample.1` (BN) when the shortcut projects.
public struct BasicBlock: ParameterContainer, BufferContainer, Sendable {
  public var conv1: Conv2D
  public var bn1: BatchNorm2D
  public var conv2: Conv2D
  public var bn2: BatchNorm2D
  /// The projection shortcut, when the stride or the width changes; else the identity.
  public var downsample: (conv: Conv2D, bn: BatchNorm2D)?

  public init<G: RandomNumberGenerator>(inputs: Int, outputs: Int, stride: Int, using rng: inout G) {
    conv1 = Conv2D(inputs: inputs, outputs: outputs, kernel: 3, stride: stride, padding: 1, bias: false, using: &rng)
    bn1 = BatchNorm2D(channels: outputs)
    conv2 = Conv2D(inputs: outputs, outputs: outputs, kernel: 3, padding: 1, bias: false, using: &rng)
    bn2 = BatchNorm2D(channels: outputs)
    downsample = stride != 1 || inputs != outputs
      ? (Conv2D(inputs: inputs, outputs: outputs, kernel: 1, stride: stride, bias: false, using: &rng), BatchNorm2D(channels: outputs))
      : nil
  }

  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    let branch = bn2(conv2(relu(bn1(conv1(x), training: training))), training: training)
    let shortcut = downsample.map { $0.bn($0.conv(x), training: training) } ?? x
    return relu(branch + shortcut)
  }

  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("conv1", conv1) + prefixed("bn1", bn1) + prefixed("conv2", conv2) + prefixed("bn2", bn2)
    if let downsample { out += prefixed("downsample.0", downsample.conv) + prefixed("downsample.1", downsample.bn) }
    return out
  }
  public var namedBuffers: [(name: String, tensor: Tensor)] {
    var out = prefixedBuffers("bn1", bn1) + prefixedBuffers("bn2", bn2)
    if let downsample { out += prefixedBuffers("downsample.1", downsample.bn) }
    return out
  }
}

/// One built block of a `ConvNet` stage.
public enum ConvNetLayer: Sendable {
  case conv(ConvUnit)
  case pool(ConvNetConfiguration.Pooling, kernel: Int, stride: Int, padding: Int)
  case basic(BasicBlock)

  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    switch self {
    case .conv(let unit): return unit(x, training: training)
    case .basic(let block): return block(x, training: training)
    case .pool(.max, let k, let s, let p): return maxPool2d(x, kernel: (k, k), stride: (s, s), padding: (p, p))
    case .pool(.average, let k, let s, let p): return avgPool2d(x, kernel: (k, k), stride: (s, s), padding: (p, p))
    }
  }

  public var namedParameters: [(name: String, tensor: Tensor)] {
    switch self {
    case .conv(let unit): unit.namedParameters
    case .basic(let block): block.namedParameters
    case .pool: []
    }
  }

  public var namedBuffers: [(name: String, tensor: Tensor)] {
    switch self {
    case .conv(let unit): unit.namedBuffers
    case .basic(let block): block.namedBuffers
    case .pool: []
    }
  }
}
