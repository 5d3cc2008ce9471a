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

  /// The ConvNet configuration of the CNN baselines.
  func convNet(classes: Int) -> ConvNetConfiguration? {
    let base = ConvNetConfiguration.resNetLike(classCount: classes)
    switch self {
    case .vit: return nil
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

/// The shape of the ViT a run trains (defaults: the 64-pixel, patch-8, width-128,
/// depth-4, 4-head model).
public struct ViTShape: Sendable, Codable, Equatable {
  public var imageSize = 64
  public var patchSize = 8
  public var width = 128
  public var depth = 4
  public var heads = 4
  public var position = PositionKind.learned

  public init() {}

  /// The configuration for `classes` classes (class token, timm's defaults otherwise).
  public func configuration(classes: Int) -> ViTConfiguration {
    var c = ViTConfiguration(patchSize: patchSize, embedDimension: width, depth: depth, headCount: heads, imageSize: imageSize)
    c.classCount = classes
    c.positionEmbedding = position.configurationKind
    return c
  }
}
