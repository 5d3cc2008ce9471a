import VALayers

/// A small CNN classifier described as data: stages of blocks (conv / norm / ReLU units,
/// pooling, ResNet basic blocks), an optional SAGAN self-attention block after one stage,
/// and a global-average-pool + linear head. `ConvNet(configuration, using:)` builds it.
///
/// Presets: `vggLike` (Simonyan & Zisserman 2015: 3×3 conv-BN-ReLU pairs, 2×2 max pooling
/// between stages, as torchvision's `vgg*_bn`) and `resNetLike` (He et al. 2016: basic
/// blocks of two 3×3 conv-BN with an identity or 1×1-projection shortcut, as torchvision's
/// `resnet18`, with a 3×3 stem for small images); `withAttention(afterStage:)` adds SAGAN
/// (Zhang et al. 2018) for the `cnn-sagan` model.
public struct ConvNetConfiguration: Sendable, Equatable {
  /// Normalisation after a convolution.
  public enum Normalization: String, Sendable, CaseIterable {
    /// `BatchNorm2D`; the convolution then has no bias (BN's shift replaces it).
    case batch
    /// None; the convolution has a bias.
    case none
  }

  /// Non-linearity after normalisation.
  public enum Activation: String, Sendable, CaseIterable { case relu, none }

  /// Pooling window reduction.
  public enum Pooling: String, Sendable, CaseIterable {
    /// Max pooling; padding never wins (as `nn.MaxPool2d`).
    case max
    /// Average pooling; padding counts as zeros (as `nn.AvgPool2d`'s default).
    case average
  }

  /// One block of a stage.
  public enum Block: Sendable, Equatable {
    /// Convolution, then normalisation, then activation (square kernel).
    case conv(
      outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
      normalization: Normalization = .batch, activation: Activation = .relu)
    /// Pooling over `kernel × kernel` windows.
    case pool(Pooling, kernel: Int, stride: Int, padding: Int = 0)
    /// A ResNet basic block: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))` with 3×3
    /// convs (the first carries the stride); the shortcut is the identity, or a 1×1 conv + BN
    /// (torchvision's `downsample`) when the stride or the width changes.
    case basic(outputs: Int, stride: Int = 1)
  }

  /// Where and how the SAGAN block sits.
  public struct Attention: Sendable, Equatable {
    /// Index of the stage whose output the block attends over.
    public var afterStage: Int
    /// Channel reduction of queries and keys (C → C/ratio).
    public var ratio: Int
    /// How values are projected (BigGAN's halving, the paper's C/8, or full width).
    public var valueForm: SAGANAttention.ValueForm
    /// 2×2 max pooling of keys and values (a quarter of the key positions).
    public var poolsKeys: Bool
    /// Spectral normalisation of the 1×1 projections (one power iteration per training step).
    public var spectralNorm: Bool

    /// A SAGAN block after stage `afterStage`, by default BigGAN's layout without pooled keys or spectral norm.
    public init(
      afterStage: Int, ratio: Int = 8, valueForm: SAGANAttention.ValueForm = .bigGAN,
      poolsKeys: Bool = false, spectralNorm: Bool = false
    ) {
      self.afterStage = afterStage
      self.ratio = ratio
      self.valueForm = valueForm
      self.poolsKeys = poolsKeys
      self.spectralNorm = spectralNorm
    }
  }

  /// Channels of the input image (3 for RGB).
  public var inputChannels: Int
  /// Stages in order; each a non-empty list of blocks.
  public var stages: [[Block]]
  /// Outputs of the linear head.
  public var classCount: Int
  /// The SAGAN block, if any.
  public var attention: Attention?

  /// An architecture; preconditions check that the stages are non-empty, the counts positive and
  /// the attention's stage exists.
  public init(inputChannels: Int = 3, stages: [[Block]], classCount: Int, attention: Attention? = nil) {
    precondition(inputChannels > 0 && classCount > 0, "ConvNet needs input channels \(inputChannels) and classes \(classCount) above 0")
    precondition(!stages.isEmpty && stages.allSatisfy { !$0.isEmpty }, "ConvNet needs non-empty stages, got \(stages.map(\.count)) blocks")
    if let attention {
      precondition(stages.indices.contains(attention.afterStage), "attention after stage \(attention.afterStage), but there are \(stages.count) stages")
    }
    self.inputChannels = inputChannels
    self.stages = stages
    self.classCount = classCount
    self.attention = attention
  }

  /// Four VGG stages: `convsPerStage` 3×3 conv-BN-ReLU (padding 1) at each width, then 2×2
  /// max pooling; a 64×64 input ends as a 4×4 map of `widths.last` channels.
  public static func vggLike(
    widths: [Int] = [32, 64, 128, 256], convsPerStage: Int = 2, classCount: Int,
    inputChannels: Int = 3
  ) -> Self {
    precondition(convsPerStage > 0, "convsPerStage must be positive, got \(convsPerStage)")
    let stages = widths.map { width in
      Array(repeating: Block.conv(outputs: width, kernel: 3, padding: 1), count: convsPerStage)
        + [.pool(.max, kernel: 2, stride: 2)]
    }
    return Self(inputChannels: inputChannels, stages: stages, classCount: classCount)
  }

  /// A small ResNet: a 3×3 conv-BN-ReLU stem and 2×2 max pooling (halving the image, as
  /// ResNet's stem does, but gentler for small inputs), then `blocksPerStage` basic blocks per
  /// width, every stage after the first starting with a stride-2 block. A 64×64 input ends as
  /// a 4×4 map of `widths.last` channels.
  public static func resNetLike(
    widths: [Int] = [32, 64, 128, 256], blocksPerStage: Int = 1, classCount: Int,
    inputChannels: Int = 3
  ) -> Self {
    precondition(blocksPerStage > 0 && !widths.isEmpty, "resNetLike needs widths and blocksPerStage > 0, got \(widths), \(blocksPerStage)")
    var stages: [[Block]] = []
    for (i, width) in widths.enumerated() {
      var blocks: [Block] = i == 0 ? [.conv(outputs: width, kernel: 3, padding: 1), .pool(.max, kernel: 2, stride: 2)] : []
      for b in 0..<blocksPerStage { blocks.append(.basic(outputs: width, stride: i > 0 && b == 0 ? 2 : 1)) }
      stages.append(blocks)
    }
    return Self(inputChannels: inputChannels, stages: stages, classCount: classCount)
  }

  /// This network with a SAGAN block after stage `afterStage` (the `cnn-sagan` model).
  public func withAttention(_ attention: Attention) -> Self {
    Self(inputChannels: inputChannels, stages: stages, classCount: classCount, attention: attention)
  }

  /// Channels of each stage's output, in order.
  public var stageWidths: [Int] {
    var width = inputChannels
    return stages.map { blocks in
      for block in blocks {
        switch block {
        case .conv(let outputs, _, _, _, _, _, _), .basic(let outputs, _): width = outputs
        case .pool: break
        }
      }
      return width
    }
  }
}
