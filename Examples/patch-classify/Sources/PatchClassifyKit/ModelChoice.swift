import VAModels
import VATensorCore

/// Which model a run trains (`--model`).
public enum ModelKind: String, CaseIterable, Sendable, Codable {
  /// The ViT of `ViTShape`.
  case vit
  /// A small ResNet (`ConvNetConfiguration.resNetLike`, widths 32-64-128-256).
  case cnn
  /// The same ResNet with a SAGAN block (BigGAN's form) after its second stage.
  case cnnSagan = "cnn-sagan"
  /// The Swin Transformer of `SwinShape` (shifted-window attention, Liu et al. 2021).
  case swin

  /// The ConvNet configuration of the CNN baselines.
  func convNet(classes: Int) -> ConvNetConfiguration? {
    let base = ConvNetConfiguration.resNetLike(classCount: classes)
    switch self {
    case .vit, .swin: return nil
    case .cnn: return base
    case .cnnSagan: return base.withAttention(.init(afterStage: 1))
    }
  }
}

/// Position embeddings of the ViT (`--position`).
public enum PositionKind: String, CaseIterable, Sendable, Codable {
  case learned, sincos, none

  var configurationKind: ViTConfiguration.PositionEmbeddingKind {
    switch self {
    case .learned: .learned
    case .sincos: .sinCos2D
    case .none: .none
    }
  }
}

/// How the ViT turns the image into tokens (`--stem`).
public enum StemKind: String, CaseIterable, Sendable, Codable {
  /// Convolutions (3×3, BatchNorm, ReLU, stride 2) down to the patch grid, then a 1×1
  /// projection (Xiao et al. 2021): the locality a plain ViT must learn from data.
  case conv
  /// The plain ViT's linear projection of each patch (Dosovitskiy et al. 2021).
  case patchify
}

/// What the ViT's classifier reads (`--pool`).
public enum PoolKind: String, CaseIterable, Sendable, Codable {
  /// A class token (Dosovitskiy et al. 2021); its attention is the model's map.
  case token
  /// The mean of the patch tokens after a LayerNorm (timm's `global_pool='avg'` with
  /// `fc_norm`), without a class token (Beyer et al. 2022, "Better plain ViT baselines").
  case avg
  /// Multi-head attention pooling (timm's `global_pool='map'`, Zhai et al. 2022; sequence
  /// pooling in Hassani et al. 2021 is its one-head cousin): a learned query attends over the
  /// patches, and that attention is the model's map.
  case map
}

/// The shape of the ViT a run trains (defaults: 64 pixels, 8-pixel cells from a
/// convolutional stem, width 128, depth 4, 4 heads, class token).
public struct ViTShape: Sendable, Codable, Equatable {
  public var imageSize = 64
  public var patchSize = 8
  public var width = 128
  public var depth = 4
  public var heads = 4
  public var position = PositionKind.learned
  public var stem = StemKind.conv
  /// Stride-1 `3 × 3` convolutions the conv stem adds at the token grid's resolution.
  public var stemRefining = 0
  /// Attention pooling, started as the patches' mean (`AttentionPoolHead.startAsMean`): it
  /// learns as fast as the mean and has an attention map of its own, which points at the
  /// object (95.5% on the colour-shapes folder, against 61.8% for the mean's last layer). A
  /// class token, or a pool with timm's initial weights, sat at chance for many epochs on
  /// small folders (3 of 6 class-token runs, and the pool in all 4 tries).
  public var pool = PoolKind.map

  public init() {}

  /// A freshly initialised model for `classes` classes: timm's initialisation, with the
  /// attention pool (`pool == .map`) started as the patches' mean.
  public func model<G: RandomNumberGenerator>(classes: Int, using rng: inout G) -> VisionTransformer {
    let model = VisionTransformer(configuration(classes: classes), using: &rng)
    model.attentionPool?.startAsMean()
    return model
  }

  /// The configuration for `classes` classes (class token, timm's defaults otherwise).
  public func configuration(classes: Int) -> ViTConfiguration {
    var c = ViTConfiguration(patchSize: patchSize, embedDimension: width, depth: depth, headCount: heads, imageSize: imageSize)
    c.classCount = classes
    c.positionEmbedding = position.configurationKind
    switch pool {
    case .token: break
    case .avg: (c.classToken, c.globalPool, c.fcNorm) = (false, .average, true)
    case .map: (c.classToken, c.globalPool, c.fcNorm) = (false, .attention, true)
    }
    if stem == .conv { c.convStem = ConvStemShape.strided(patchSize: patchSize, width: width, refining: stemRefining) }
    return c
  }
}

/// The shape of the Swin a run trains (defaults: 4-pixel patches, 48 channels in two stages of
/// two blocks, 2 then 4 heads, 4 × 4 windows): on 64-pixel images, 16 × 16 cells in 16 windows
/// in the first stage, 8 × 8 in 4 in the second, about 0.3 M parameters, a 1.2 MB checkpoint.
/// The image size is the run's (`--image-size`, shared with the ViT).
///
/// Sizes follow Swin's rule: stage `i` has `width · 2^i` channels and `heads · 2^i` heads.
public struct SwinShape: Sendable, Codable, Equatable {
  public var patchSize = 4
  /// Channels of the first stage (timm's `embed_dim`).
  public var width = 48
  /// Blocks per stage (timm's `depths`); a patch merging halves the map between stages.
  public var depths = [2, 2]
  /// Heads of the first stage; each later stage doubles them with its width.
  public var heads = 2
  /// The window side in cells (timm's `window_size`), clamped to a smaller map as timm does.
  public var window = 4

  public init() {}

  /// The architecture (v1, timm's window policy, the default ImageNet normalisation).
  public var configuration: SwinConfiguration {
    SwinConfiguration(
      version: .v1, patchSize: patchSize, embedDimension: width, depths: depths, heads: depths.indices.map { heads << $0 },
      windows: [Int](repeating: window, count: depths.count))
  }

  /// A freshly initialised model for `classes` classes and `imageSize`-pixel images, as timm
  /// initialises Swin.
  public func model<G: RandomNumberGenerator>(classes: Int, imageSize: Int, using rng: inout G) -> SwinTransformer {
    SwinTransformer(configuration, imageSize: imageSize, classes: classes, using: &rng)
  }
}
