import VALayers
import VATensorCore

// The two ResNet layouts DETR checkpoints carry, mapped to one `ResNetTrunk`. Depths come from
// the block indices present, widths from the tensors' shapes.
extension DETR {
  /// A frozen batch norm `NAME.{weight, bias, running_mean, running_var}`, `[channels]` each.
  static func frozenNorm(_ r: CheckpointReader, _ name: String, _ channels: Int) throws(CheckpointError) -> FrozenBatchNorm2D {
    FrozenBatchNorm2D(
      weight: try r.tensor(name + ".weight", [channels]), bias: try r.tensor(name + ".bias", [channels]),
      runningMean: try r.tensor(name + ".running_mean", [channels]), runningVariance: try r.tensor(name + ".running_var", [channels]))
  }

  /// A bias-free convolution `NAME` with a square kernel read from its shape.
  static func conv(_ r: CheckpointReader, _ name: String, inputs: Int, stride: Int = 1) throws(CheckpointError) -> Conv2D {
    guard let shape = r.shape(name), shape.count == 4, shape[1] == inputs, shape[2] == shape[3], shape[2] % 2 == 1 else {
      throw .shapeMismatch(path: r.path, name: name, expected: [-1, inputs, -1, -1], actual: r.shape(name) ?? [])
    }
    return Conv2D(weight: try r.tensor(name, shape), bias: nil, stride: stride, padding: shape[2] / 2)
  }

  /// One bottleneck under the names `names` gives for (conv1, bn1, conv2, bn2, conv3, bn3,
  /// shortcut conv, shortcut norm), relative to `prefix`.
  static func bottleneck(_ r: CheckpointReader, _ prefix: String, names: [String], inputs: Int, stride: Int) throws(CheckpointError) -> ResNetBottleneck {
    let conv1 = try conv(r, prefix + names[0] + ".weight", inputs: inputs)
    let conv2 = try conv(r, prefix + names[2] + ".weight", inputs: conv1.outputs, stride: stride)
    let conv3 = try conv(r, prefix + names[4] + ".weight", inputs: conv2.outputs)
    guard conv1.kernel == 1 && conv2.kernel == 3 && conv3.kernel == 1 else {
      throw .inconsistent(path: r.path, reason: "\(prefix) is not a bottleneck (kernels \(conv1.kernel), \(conv2.kernel), \(conv3.kernel); expected 1, 3, 1)")
    }
    var downsample: (conv: Conv2D, bn: FrozenBatchNorm2D)?
    if r.has(prefix + names[6] + ".weight") {
      let c = try conv(r, prefix + names[6] + ".weight", inputs: inputs, stride: stride)
      downsample = (c, try frozenNorm(r, prefix + names[7], c.outputs))
    } else if stride != 1 || inputs != conv3.outputs {
      throw .missingTensor(path: r.path, name: prefix + names[6] + ".weight")
    }
    return ResNetBottleneck(
      conv1: conv1, bn1: try frozenNorm(r, prefix + names[1], conv1.outputs), conv2: conv2, bn2: try frozenNorm(r, prefix + names[3], conv2.outputs),
      conv3: conv3, bn3: try frozenNorm(r, prefix + names[5], conv3.outputs), downsample: downsample)
  }

  /// timm's `ResNet` (`features_only`): `conv1`, `bn1`, `layer{1…4}.{j}.conv1 … bn3`,
  /// `downsample.0/1`. A deep stem (`conv1.0`) or an average-pool shortcut is refused.
  static func readTimmResNet(_ r: CheckpointReader, prefix: String) throws(CheckpointError) -> ResNetTrunk {
    let stem = try conv(r, prefix + "conv1.weight", inputs: 3, stride: 2)
    guard stem.kernel == 7 else { throw .inconsistent(path: r.path, reason: "\(prefix)conv1 is \(stem.kernel)×\(stem.kernel); DETR's ResNet stem is 7×7") }
    var inputs = stem.outputs
    var stages: [[ResNetBlock]] = []
    for s in 1...4 {
      let count = r.indices(after: "\(prefix)layer\(s).")
      guard count > 0 else { throw .missingTensor(path: r.path, name: "\(prefix)layer\(s).0.conv1.weight") }
      var blocks: [ResNetBlock] = []
      for j in 0..<count {
        let block = try bottleneck(
          r, "\(prefix)layer\(s).\(j).", names: ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "downsample.0", "downsample.1"],
          inputs: inputs, stride: j == 0 && s > 1 ? 2 : 1)
        inputs = block.outputs
        blocks.append(.bottleneck(block))
      }
      stages.append(blocks)
    }
    return ResNetTrunk(stem: stem, stemNorm: try frozenNorm(r, prefix + "bn1", stem.outputs), stages: stages)
  }

  /// transformers' `ResNetBackbone`: `embedder.embedder.{convolution, normalization}`,
  /// `encoder.stages.{i}.layers.{j}.layer.{0,1,2}` (bottleneck) or `layer.{0,1}` (basic, as
  /// `layer_type` says) and `.shortcut`; four stages for bottlenecks (DETR's trunk), one to four
  /// for basic blocks (the last is DETR's map; `DETRConfiguration` checks `out_features`).
  static func readHuggingFaceResNet(_ r: CheckpointReader, prefix: String, layerType: DETRBackbone.ResNetLayerType) throws(CheckpointError) -> ResNetTrunk {
    let stem = try conv(r, prefix + "embedder.embedder.convolution.weight", inputs: 3, stride: 2)
    guard stem.kernel == 7 else { throw .inconsistent(path: r.path, reason: "\(prefix)embedder is \(stem.kernel)×\(stem.kernel); DETR's ResNet stem is 7×7") }
    var inputs = stem.outputs
    var stages: [[ResNetBlock]] = []
    let stageCount = r.indices(after: prefix + "encoder.stages.")
    switch layerType {
    case .bottleneck:
      guard stageCount == 4 else { throw .inconsistent(path: r.path, reason: "\(prefix)encoder has \(stageCount) stages; DETR's ResNet has 4") }
    case .basic:
      guard (1...4).contains(stageCount) else { throw .inconsistent(path: r.path, reason: "\(prefix)encoder has \(stageCount) stages; a basic-block ResNet has 1 to 4") }
    }
    for s in 0..<stageCount {
      var blocks: [ResNetBlock] = []
      for j in 0..<r.indices(after: "\(prefix)encoder.stages.\(s).layers.") {
        let p = "\(prefix)encoder.stages.\(s).layers.\(j)."
        let stride = j == 0 && s > 0 ? 2 : 1
        switch layerType {
        case .bottleneck:
          let c = "layer.%d.convolution", n = "layer.%d.normalization"
          let names = (0..<3).flatMap { [c.replacingOccurrences(of: "%d", with: "\($0)"), n.replacingOccurrences(of: "%d", with: "\($0)")] }
          blocks.append(.bottleneck(try bottleneck(r, p, names: names + ["shortcut.convolution", "shortcut.normalization"], inputs: inputs, stride: stride)))
        case .basic:
          blocks.append(.basic(try basicBlock(r, p, inputs: inputs, stride: stride)))
        }
        inputs = blocks.last!.outputs
      }
      stages.append(blocks)
    }
    return ResNetTrunk(stem: stem, stemNorm: try frozenNorm(r, prefix + "embedder.embedder.normalization", stem.outputs), stages: stages)
  }

  /// transformers' `ResNetBasicLayer` at `prefix`: `layer.{0,1}.{convolution, normalization}`,
  /// `shortcut.{convolution, normalization}` when it projects.
  static func basicBlock(_ r: CheckpointReader, _ prefix: String, inputs: Int, stride: Int) throws(CheckpointError) -> ResNetBasicBlock {
    let conv1 = try conv(r, prefix + "layer.0.convolution.weight", inputs: inputs, stride: stride)
    let conv2 = try conv(r, prefix + "layer.1.convolution.weight", inputs: conv1.outputs)
    guard conv1.kernel == 3 && conv2.kernel == 3, !r.has(prefix + "layer.2.convolution.weight") else {
      throw .inconsistent(path: r.path, reason: "\(prefix) is not a basic block (two 3×3 convolutions)")
    }
    var downsample: (conv: Conv2D, bn: FrozenBatchNorm2D)?
    if r.has(prefix + "shortcut.convolution.weight") {
      let c = try conv(r, prefix + "shortcut.convolution.weight", inputs: inputs, stride: stride)
      downsample = (c, try frozenNorm(r, prefix + "shortcut.normalization", c.outputs))
    } else if stride != 1 || inputs != conv2.outputs {
      throw .missingTensor(path: r.path, name: prefix + "shortcut.convolution.weight")
    }
    return ResNetBasicBlock(
      conv1: conv1, bn1: try frozenNorm(r, prefix + "layer.0.normalization", conv1.outputs), conv2: conv2,
      bn2: try frozenNorm(r, prefix + "layer.1.normalization", conv2.outputs), downsample: downsample)
  }
}
