import VALayers
import VATensorCore

/// One residual block of a `ResNetTrunk`: a bottleneck (ResNet-50 and deeper) or a basic
/// block (ResNet-18/34, and the small trunks patch-detect trains).
public enum ResNetBlock: Sendable {
  /// 1×1, 3×3, 1×1 convolutions with a 4× expansion (`layer_type: "bottleneck"`).
  case bottleneck(ResNetBottleneck)
  /// Two 3×3 convolutions (`layer_type: "basic"`).
  case basic(ResNetBasicBlock)

  /// Output channels.
  public var outputs: Int {
    switch self {
    case .bottleneck(let b): b.outputs
    case .basic(let b): b.outputs
    }
  }

  /// The block's output.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch self {
    case .bottleneck(let b): b(x)
    case .basic(let b): b(x)
    }
  }
}

/// A ResNet trunk with frozen batch norms, as DETR's backbone: the 7×7 stride-2 stem
/// (convolution without bias, norm, ReLU), a 3×3 stride-2 max pool with padding 1, and stages
/// of residual blocks (`ResNetBlock`), the first stride 1 and the others stride 2. timm's and
/// the hub's trunks have four bottleneck stages (output stride 32; DETR's dilated "DC5" variant
/// is not implemented); a transformers `ResNetConfig` may also have basic blocks and fewer
/// stages (three: output stride 16). DETR reads the last stage only.
///
/// Shapes: `[N, 3, H, W]` → `[N, C_last, h, w]` with `h = ⌈H/32⌉`-like rounding as the
/// convolution formula gives it for four stages (96×160 → 3×5; 800×1066 → 25×34).
/// Reference: timm `resnet50`/`resnet101` (`features_only`), transformers `ResNetBackbone`.
public struct ResNetTrunk: Sendable {
  /// The stem convolution, 7×7, stride 2, padding 3, no bias.
  public var stem: Conv2D
  /// The stem's norm.
  public var stemNorm: FrozenBatchNorm2D
  /// The blocks of each stage (resnet50: 3, 4, 6, 3).
  public var stages: [[ResNetBlock]]

  /// A trunk from loaded layers.
  public init(stem: Conv2D, stemNorm: FrozenBatchNorm2D, stages: [[ResNetBlock]]) {
    precondition(stem.kernel == 7 && stem.stride == 2 && stem.padding == 3, "ResNetTrunk needs the 7×7 stride-2 stem, got \(stem.weight.shape) stride \(stem.stride)")
    precondition(!stages.isEmpty && stages.allSatisfy { !$0.isEmpty }, "ResNetTrunk needs non-empty stages, got \(stages.map(\.count))")
    (self.stem, self.stemNorm, self.stages) = (stem, stemNorm, stages)
  }

  /// Input pixels per cell of the last stage's map along each side: 4 for the stem and the
  /// pool, ×2 for each stage after the first (32 with four stages, 16 with three).
  public var outputStride: Int { 4 << (stages.count - 1) }

  /// Channels of the last stage's map (2048 for resnet50 and resnet101).
  public var outputs: Int { stages.last!.last!.outputs }

  /// The last stage's feature map, `[N, 3, H, W]` → `[N, C_last, h, w]`.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    var h = relu(stemNorm(stem(x)))
    h = maxPool2d(h, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
    for stage in stages {
      for block in stage { h = block(h) }
    }
    return h
  }
}
