import VALayers

/// The architecture of a Swin Transformer (v1, Liu et al. 2021; v2, Liu et al. 2022): what
/// the weights do not show, and how the library it came from sizes windows for an input.
///
/// Stage `i` works at `1 / (patchSize · 2^i)` of the input with `embedDimension · 2^i`
/// channels; a patch merging halves the map between stages. timm merges at the start of each
/// stage after the first (`layers.{i}.downsample`), Hugging Face at the end of each stage but
/// the last (`encoder.layers.{i}.downsample`): the same computation, stored under other names.
public struct SwinConfiguration: Sendable, Equatable {
  /// Which Swin: v1 (scaled dot product, relative position bias table, pre-norm blocks) or
  /// v2 (scaled cosine attention, continuous position bias MLP, res-post-norm blocks).
  public enum Version: Int, Sendable, Equatable { case v1 = 1, v2 = 2 }

  /// How a library sizes each block's window and shift for a feature map, and in which order
  /// it shifts and pads a map that is not a multiple of the window.
  public enum WindowPolicy: Sendable, Equatable {
    /// timm (`SwinTransformerBlock._calc_window_shift`, a model built with `img_size` equal to
    /// the input): per axis, a map no larger than the window gets a window of its size and no
    /// shift. The map is rolled, then padded at the bottom and right.
    case timm
    /// Hugging Face `SwinLayer.set_shift_and_window_size`, per forward: when the smaller side of
    /// the map is no larger than the window, a square window of that side and no shift. The map
    /// is padded, then rolled.
    case huggingFace
    /// Hugging Face `Swinv2Layer._compute_window_shift`, fixed when the model is built: from
    /// the configured image's map height at the stage, whatever the input. Padded, then rolled.
    case huggingFaceV2(imageSize: Int)
  }

  /// v1 or v2.
  public var version: Version
  /// The patch embedding's side `P` in pixels (4 in every released Swin).
  public var patchSize: Int
  /// Channels `C` of the first stage; stage `i` has `C · 2^i`.
  public var embedDimension: Int
  /// Blocks per stage.
  public var depths: [Int]
  /// Attention heads per stage.
  public var heads: [Int]
  /// The window side per stage before any clamping to the map (timm's per-stage `window_size`).
  public var windows: [Int]
  /// v2: the window the continuous bias was pretrained with, per stage (0: the block's own
  /// window normalises the coordinates); timm's `pretrained_window_sizes`.
  public var pretrainedWindows: [Int]
  /// How windows and shifts follow the feature map.
  public var windowPolicy: WindowPolicy
  /// Every LayerNorm's epsilon (1e-5 in timm and transformers).
  public var layerNormEps: Float = 1e-5
  /// The MLP's hidden width over its input width (4).
  public var mlpRatio: Int = 4
  /// Per-channel mean the input was normalised with (ImageNet's by default).
  public var mean: [Float] = [0.485, 0.456, 0.406]
  /// Per-channel standard deviation the input was normalised with.
  public var std: [Float] = [0.229, 0.224, 0.225]

  /// A configuration; preconditions check that every per-stage list has one entry per stage.
  public init(
    version: Version, patchSize: Int = 4, embedDimension: Int, depths: [Int], heads: [Int], windows: [Int],
    pretrainedWindows: [Int]? = nil, windowPolicy: WindowPolicy = .timm
  ) {
    precondition(!depths.isEmpty && heads.count == depths.count && windows.count == depths.count, "depths \(depths), heads \(heads) and windows \(windows) need one entry per stage")
    self.version = version
    self.patchSize = patchSize
    self.embedDimension = embedDimension
    self.depths = depths
    self.heads = heads
    self.windows = windows
    self.pretrainedWindows = pretrainedWindows ?? [Int](repeating: 0, count: depths.count)
    precondition(self.pretrainedWindows.count >= depths.count, "pretrained windows \(self.pretrainedWindows) for \(depths.count) stages")
    self.windowPolicy = windowPolicy
  }

  /// Number of stages.
  public var stageCount: Int { depths.count }
  /// Channels of stage `i`, `C · 2^i`.
  public func width(stage i: Int) -> Int { embedDimension << i }
  /// Total blocks, the number of attention maps a forward pass records.
  public var blockCount: Int { depths.reduce(0, +) }
  /// Features the head reads: the last stage's width.
  public var featureWidth: Int { width(stage: stageCount - 1) }
}
