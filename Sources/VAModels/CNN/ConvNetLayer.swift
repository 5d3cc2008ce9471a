import VALayers
import VATensorCore

/// One built block of a `ConvNet` stage.
public enum ConvNetLayer: Sendable {
  /// Convolution, optional BN and ReLU.
  case conv(ConvUnit)
  /// Max or average pooling with a square kernel, stride and padding; no parameters.
  case pool(ConvNetConfiguration.Pooling, kernel: Int, stride: Int, padding: Int)
  /// A ResNet basic block.
  case basic(BasicBlock)

  /// The layer applied to `x`, `[N, C, H, W]`; `training` reaches the batch norms.
  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    switch self {
    case .conv(let unit): return unit(x, training: training)
    case .basic(let block): return block(x, training: training)
    case .pool(.max, let k, let s, let p): return maxPool2d(x, kernel: (k, k), stride: (s, s), padding: (p, p))
    case .pool(.average, let k, let s, let p): return avgPool2d(x, kernel: (k, k), stride: (s, s), padding: (p, p))
    }
  }

  /// The wrapped block's parameters (none for a pool).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    switch self {
    case .conv(let unit): unit.namedParameters
    case .basic(let block): block.namedParameters
    case .pool: []
    }
  }

  /// The wrapped block's BN running statistics (none for a pool).
  public var namedBuffers: [(name: String, tensor: Tensor)] {
    switch self {
    case .conv(let unit): unit.namedBuffers
    case .basic(let block): block.namedBuffers
    case .pool: []
    }
  }
}
