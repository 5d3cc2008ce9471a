import VALayers
import VATensorCore

extension VisionTransformer {
  /// The first tensor of a timm `HybridEmbed(ConvStem)` patch embedding.
  static let convStemMarker = "patch_embed.backbone.0.conv.weight"

  /// Reads a convolutional stem (`patch_embed.backbone.<i>.conv|bn.*`, timm's `ConvStem`)
  /// and its last `1 × 1` convolution as the patch embedding. Kernel sides come from the
  /// weights; strides are in no tensor, so they must come from `config.json`
  /// (`vision_attention.conv_stem.stride`), else the checkpoint is refused rather than guessed.
  static func timmConvStem(_ r: CheckpointReader, config: [String: Any]?) throws(CheckpointError) -> (shape: ConvStemShape, stem: ConvStem, projection: PatchEmbedding) {
    let path = r.path
    let layers = r.indices(after: "patch_embed.backbone.")
    let stemConfig = (config?["vision_attention"] as? [String: Any])?["conv_stem"] as? [String: Any]
    guard let strides = (stemConfig?["stride"] as? [Any])?.compactMap(integer), strides.count == layers else {
      throw .badConfig(path: path, reason: "the checkpoint has a \(layers)-layer convolutional stem (patch_embed.backbone.*) but config.json gives no vision_attention.conv_stem.stride with \(layers) entries; its strides are in no tensor")
    }
    guard layers >= 2, strides.last == 1 else {
      throw .inconsistent(path: path, reason: "a conv stem must end in a 1x1, stride-1 projection; strides \(strides)")
    }
    var units: [ConvUnit] = [], kernels: [Int] = [], channels: [Int] = [], inputs = 3
    for i in 0..<(layers - 1) {
      let name = "patch_embed.backbone.\(i)"
      guard let shape = r.shape(name + ".conv.weight"), shape.count == 4, shape[1] == inputs, shape[2] == shape[3] else {
        throw .inconsistent(path: path, reason: "\(name).conv.weight must be [C, \(inputs), k, k], got \(r.shape(name + ".conv.weight") ?? [])")
      }
      let (c, k) = (shape[0], shape[2])
      var bn = BatchNorm2D(channels: c)
      bn.weight = try r.tensor(name + ".bn.weight", [c])
      bn.bias = try r.tensor(name + ".bn.bias", [c])
      bn.runningMean = try r.tensor(name + ".bn.running_mean", [c])
      bn.runningVariance = try r.tensor(name + ".bn.running_var", [c])
      units.append(
        ConvUnit(
          conv: Conv2D(
            weight: try r.tensor(name + ".conv.weight", shape), bias: try r.optional(name + ".conv.bias", [c]),
            stride: strides[i], padding: ConvStemShape.padding(kernel: k, stride: strides[i])),
          bn: bn, activation: .relu))
      kernels.append(k)
      channels.append(c)
      inputs = c
    }
    r.ignore { $0.hasPrefix("patch_embed.backbone.") && $0.hasSuffix(".num_batches_tracked") }
    let last = "patch_embed.backbone.\(layers - 1).conv"
    guard let shape = r.shape(last + ".weight"), shape.count == 4, shape[1] == inputs, shape[2] == 1, shape[3] == 1 else {
      throw .inconsistent(path: path, reason: "\(last).weight must be [D, \(inputs), 1, 1], got \(r.shape(last + ".weight") ?? [])")
    }
    let projection = Linear(weight: try r.tensor(last + ".weight", [shape[0], inputs], storedAs: shape), bias: try r.optional(last + ".bias", [shape[0]]))
    let stemShape = ConvStemShape(hiddenChannels: channels, kernels: kernels, strides: Array(strides.dropLast()))
    return (stemShape, ConvStem(units: units), PatchEmbedding(projection: projection, patchSize: 1))
  }
}
