import VALayers
import VATensorCore

/// A ResNet basic block (He et al. 2016, Fig. 2 left; torchvision's `BasicBlock`):
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
///
/// Shapes: `[N, C_in, H, W]` → `[N, C_out, H/s, W/s]`. Names as torchvision: `conv1`, `bn1`,
/// `conv2`, `bn2`, and `downsample.0` (1×1 conv), `downsample.1` (BN) when the shortcut projects.
public struct BasicBlock: ParameterContainer, BufferContainer, Sendable {
  /// The first 3×3 convolution, carrying the block's stride (torchvision's `conv1`).
  public var conv1: Conv2D
  /// The batch norm after `conv1`.
  public var bn1: BatchNorm2D
  /// The second 3×3 convolution, stride 1.
  public var conv2: Conv2D
  /// The batch norm after `conv2`, before the residual sum.
  public var bn2: BatchNorm2D
  /// The projection shortcut, when the stride or the width changes; else the identity.
  public var downsample: (conv: Conv2D, bn: BatchNorm2D)?

  /// A fresh block: He-normal convolutions without bias, BN at γ = 1, β = 0, and a 1×1
  /// projection shortcut when `stride` is not 1 or `inputs` differs from `outputs`.
  public init<G: RandomNumberGenerator>(inputs: Int, outputs: Int, stride: Int, using rng: inout G) {
    conv1 = Conv2D(inputs: inputs, outputs: outputs, kernel: 3, stride: stride, padding: 1, bias: false, using: &rng)
    bn1 = BatchNorm2D(channels: outputs)
    conv2 = Conv2D(inputs: outputs, outputs: outputs, kernel: 3, padding: 1, bias: false, using: &rng)
    bn2 = BatchNorm2D(channels: outputs)
    downsample =
      stride != 1 || inputs != outputs
      ? (Conv2D(inputs: inputs, outputs: outputs, kernel: 1, stride: stride, bias: false, using: &rng), BatchNorm2D(channels: outputs))
      : nil
  }

  /// The block's output, `[N, C_in, H, W]` → `[N, C_out, H/s, W/s]`; `training` as in `BatchNorm2D`.
  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    let branch = bn2(conv2(relu(bn1(conv1(x), training: training))), training: training)
    let shortcut = downsample.map { $0.bn($0.conv(x), training: training) } ?? x
    return relu(branch + shortcut)
  }

  /// Parameters under torchvision's names (`conv1.weight` … `downsample.1.bias`).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("conv1", conv1) + prefixed("bn1", bn1) + prefixed("conv2", conv2) + prefixed("bn2", bn2)
    if let downsample { out += prefixed("downsample.0", downsample.conv) + prefixed("downsample.1", downsample.bn) }
    return out
  }
  /// The three batch norms' running statistics (`bn1.running_mean` … `downsample.1.running_var`).
  public var namedBuffers: [(name: String, tensor: Tensor)] {
    var out = prefixedBuffers("bn1", bn1) + prefixedBuffers("bn2", bn2)
    if let downsample { out += prefixedBuffers("downsample.1", downsample.bn) }
    return out
  }
}
