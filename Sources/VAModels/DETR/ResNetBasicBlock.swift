import VALayers
import VATensorCore

/// A ResNet basic block with frozen batch norms (He et al. 2016, Fig. 2 left), as
/// transformers' `ResNetBasicLayer` computes it: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
///
/// Shapes: `[N, C_in, H, W]` → `[N, C_out, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1]`; `conv1` is 3×3
/// `C_in → C_out` with stride s, `conv2` 3×3 `C_out → C_out`, both padding 1; the shortcut is a
/// 1×1 convolution with stride s and a batch norm when the stride or the width changes.
/// Names (transformers): `layer.0.{convolution, normalization}`, `layer.1.*`, `shortcut.*`.
public struct ResNetBasicBlock: Sendable {
  /// The first 3×3 convolution (carrying the stride) and its norm.
  public var conv1: Conv2D, bn1: FrozenBatchNorm2D
  /// The second 3×3 convolution and its norm (no ReLU before the sum).
  public var conv2: Conv2D, bn2: FrozenBatchNorm2D
  /// The projection shortcut, or nil for the identity.
  public var downsample: (conv: Conv2D, bn: FrozenBatchNorm2D)?

  /// A block from loaded layers; preconditions check that the widths chain.
  public init(conv1: Conv2D, bn1: FrozenBatchNorm2D, conv2: Conv2D, bn2: FrozenBatchNorm2D, downsample: (conv: Conv2D, bn: FrozenBatchNorm2D)?) {
    precondition(
      conv1.outputs == conv2.inputs && conv2.outputs == bn2.channels && conv1.outputs == bn1.channels,
      "ResNetBasicBlock widths do not chain: \(conv1.weight.shape), \(conv2.weight.shape)")
    precondition(
      downsample != nil || (conv1.inputs == conv2.outputs && conv1.stride == 1),
      "ResNetBasicBlock without a shortcut projection needs C_in = C_out and stride 1, got \(conv1.inputs) → \(conv2.outputs), stride \(conv1.stride)")
    (self.conv1, self.bn1, self.conv2, self.bn2, self.downsample) = (conv1, bn1, conv2, bn2, downsample)
  }

  /// Input channels `C_in`.
  public var inputs: Int { conv1.inputs }
  /// Output channels `C_out`.
  public var outputs: Int { conv2.outputs }

  /// The block's output, `[N, C_in, H, W]` → `[N, C_out, H/s, W/s]`.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    let branch = bn2(conv2(relu(bn1(conv1(x)))))
    let shortcut = downsample.map { $0.bn($0.conv(x)) } ?? x
    return relu(branch + shortcut)
  }
}
