import Foundation

/// A CNN described as a chain of conv and pool layers: enough to compute receptive fields.
///
/// Residual networks are modelled by their longest path (every 3×3 conv of every unit, in
/// order), which is what bounds their receptive field; 1×1 convs and shortcuts add nothing.
public struct ConvStack: Sendable, Equatable {
  /// The preset's name, or the spec text it was parsed from.
  public var name: String
  /// The layers from input to output.
  public var layers: [ConvLayerSpec]

  /// A stack from its layers, unchecked (`init(parsing:)` checks a user's spec).
  public init(name: String, layers: [ConvLayerSpec]) {
    self.name = name
    self.layers = layers
  }

  /// The most layers a parsed spec may have: 1,000, ten times ResNet-152's longest path.
  public static let maximumLayers = 1_000

  /// A preset name, or a comma-separated spec such as `conv3p1,conv3p1,pool2s2,conv3d2p2`.
  ///
  /// Throws `ConvSpecError` for a malformed layer, more than `maximumLayers` layers, or a
  /// field whose size, stride or padding exceeds `ReceptiveField.maximumExtent`, so every
  /// parsed stack has bounded receptive-field arithmetic and work.
  public init(parsing text: String) throws(ConvSpecError) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { throw .empty }
    if let preset = Self.preset(trimmed) {
      self = preset
      return
    }
    guard trimmed.hasPrefix("conv") || trimmed.hasPrefix("pool") else { throw .unknownPreset(trimmed) }
    var layers: [ConvLayerSpec] = []
    let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count <= Self.maximumLayers else { throw .tooManyLayers(count: parts.count, limit: Self.maximumLayers) }
    for (index, part) in parts.enumerated() {
      let layer = part.trimmingCharacters(in: .whitespaces)
      guard !layer.isEmpty else { throw .badLayer(index: index, text: "", reason: "empty layer") }
      layers.append(try ConvLayerSpec.parse(Substring(layer), index: index))
    }
    self.init(name: trimmed, layers: layers)
    _ = try ReceptiveField.checkedPerLayer(self)
  }

  /// The names `preset(_:)` knows, in the order help texts list them.
  public static let presetNames = ["vgg16", "alexnet", "resnet50", "resnet50-tfslim"]

  /// VGG-16 up to pool5; torchvision's AlexNet up to its last pool; ResNet-50 in torchvision's
  /// layout (stride on the 3×3 conv of each stage's first unit, "v1.5") and in TF-slim's
  /// `resnet_v1_50` (stride on the last unit of blocks 1-3, TF "SAME" padding).
  public static func preset(_ name: String) -> ConvStack? {
    func conv(_ k: Int, s: Int = 1, p: Int = 0) -> ConvLayerSpec { ConvLayerSpec(.conv, kernel: k, stride: s, padding: p) }
    func pool(_ k: Int, s: Int, p: Int = 0) -> ConvLayerSpec { ConvLayerSpec(.pool, kernel: k, stride: s, padding: p) }
    switch name {
    case "vgg16":
      var layers: [ConvLayerSpec] = []
      for convs in [2, 2, 3, 3, 3] {
        layers += Array(repeating: conv(3, p: 1), count: convs)
        layers.append(pool(2, s: 2))
      }
      return ConvStack(name: name, layers: layers)
    case "alexnet":
      return ConvStack(
        name: name,
        layers: [
          conv(11, s: 4, p: 2), pool(3, s: 2), conv(5, p: 2), pool(3, s: 2),
          conv(3, p: 1), conv(3, p: 1), conv(3, p: 1), pool(3, s: 2),
        ])
    case "resnet50":
      var layers = [conv(7, s: 2, p: 3), pool(3, s: 2, p: 1)]
      for (units, stride) in [(3, 1), (4, 2), (6, 2), (3, 2)] {
        for unit in 0..<units { layers.append(conv(3, s: unit == 0 ? stride : 1, p: 1)) }
      }
      return ConvStack(name: name, layers: layers)
    case "resnet50-tfslim":
      // conv2d_same pads explicitly (3 for the 7x7, 1 for strided 3x3s); SAME pooling of a
      // 3x3 window with stride 2 pads 0 before the first input on even sizes.
      var layers = [conv(7, s: 2, p: 3), pool(3, s: 2, p: 0)]
      for (units, stride) in [(3, 2), (4, 2), (6, 2), (3, 1)] {
        for unit in 0..<units { layers.append(conv(3, s: unit == units - 1 ? stride : 1, p: 1)) }
      }
      return ConvStack(name: name, layers: layers)
    default:
      return nil
    }
  }
}
