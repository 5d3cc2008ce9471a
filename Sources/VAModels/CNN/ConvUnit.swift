import VALayers
import VATensorCore

/// Convolution → optional BatchNorm → optional ReLU (one `ConvNetConfiguration.Block.conv`).
///
/// Shapes: `[N, C_in, H, W]` → `[N, C_out, H_out, W_out]`. Names: `conv.weight`
/// (`conv.bias` without BN), `bn.weight`, `bn.bias`; buffers `bn.running_mean`, `bn.running_var`.
public struct ConvUnit: ParameterContainer, BufferContainer, Sendable {
  /// The convolution (`conv`).
  public var conv: Conv2D
  /// The batch norm after the convolution (`bn`), or nil when the block has none.
  public var bn: BatchNorm2D?
  /// ReLU after the convolution (and BN), or none.
  public var activation: ConvNetConfiguration.Activation

  /// `activation(bn(conv(x)))`; `training` selects batch statistics in the BN and updates its running ones.
  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    var y = conv(x)
    if let bn { y = bn(y, training: training) }
    return activation == .relu ? relu(y) : y
  }

  /// `conv.*` and `bn.*` parameters, as listed above.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("conv", conv) + (bn.map { prefixed("bn", $0) } ?? [])
  }
  /// `bn.running_mean` and `bn.running_var`, or none without BN.
  public var namedBuffers: [(name: String, tensor: Tensor)] { bn.map { prefixedBuffers("bn", $0) } ?? [] }
}
