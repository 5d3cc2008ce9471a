import VALayers
import VATensorCore

/// A ResNet bottleneck block with frozen batch norms (He et al. 2016, Fig. 5 right; "ResNet v1.5":
/// the stride sits on the 3×3 convolution), as timm's `Bottleneck` and transformers'
/// `ResNetBottleNeckLayer` (`downsample_in_bottleneck=False`) compute it:
/// `relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))`.
///
/// Shapes: `[N, C_in, H, W]` → `[N, C_out, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1]`; `conv1` is 1×1
/// `C_in → width`, `conv2` 3×3 `width → width` with stride s and padding 1, `conv3` 1×1
/// `width → C_out`; the shortcut is a 1×1 convolution with stride s and a batch norm when the
/// stride or the width changes, else the identity.
public struct ResNetBottleneck: Sendable {
  /// 1×1 reduction and its norm.
  public var conv1: Conv2D, bn1: FrozenBatchNorm2D
  /// 3×3 convolution carrying the stride, and its norm.
  public var conv2: Conv2D, bn2: FrozenBatchNorm2D
  /// 1×1 expansion and its norm (no ReLU before the sum).
  public var conv3: Conv2D, bn3: FrozenBatchNorm2D
  /// The projection shortcut (timm's `downsample.0/1`, transformers' `shortcut`), or nil.
  public var downsample: (conv: Conv2D, bn: FrozenBatchNorm2D)?

  /// A block from loaded layers; preconditions check that the widths chain.
  public init(
    conv1: Conv2D, bn1: FrozenBatchNorm2D, conv2: Conv2D, bn2: FrozenBatchNorm2D, conv3: Conv2D, bn3: FrozenBatchNorm2D,
    downsample: (conv: Conv2D, bn: FrozenBatchNorm2D)?
  ) {
    precondition(
      conv1.outputs == conv2.inputs && conv2.outputs == conv3.inputs && conv3.outputs == bn3.channels,
      "ResNetBottleneck widths do not chain: \(conv1.weight.shape), \(conv2.weight.shape), \(conv3.weight.shape)")
    precondition(
      downsample != nil || (conv1.inputs == conv3.outputs && conv2.stride == 1),
      "ResNetBottleneck without a shortcut projection needs C_in = C_out and stride 1, got \(conv1.inputs) → \(conv3.outputs), stride \(conv2.stride)")
    (self.conv1, self.bn1, self.conv2, self.bn2, self.conv3, self.bn3, self.downsample) = (conv1, bn1, conv2, bn2, conv3, bn3, downsample)
  }

  /// Input channels `C_in`.
  public var inputs: Int { conv1.inputs }
  /// Output channels `C_out`.
  public var outputs: Int { conv3.outputs }

  /// The block's output, `[N, C_in, H, W]` → `[N, C_out, H/s, W/s]`.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    let branch = bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))))
    let shortcut = downsample.map { $0.bn($0.conv(x)) } ?? x
    return relu(branch + shortcut)
  }
}
