import VAModels

extension ConvStack {
  /// The conv/pool chain of a `ConvNetConfiguration`, for its theoretical receptive field.
  ///
  /// Conv units and pools map one to one; a ResNet basic block contributes its two 3×3
  /// convs (the first with the block's stride), its longest path, as `ConvStack` models
  /// residual networks (1×1 shortcuts add nothing). A SAGAN block is left out: after it
  /// every unit sees the whole image, which no finite conv field describes.
  public init(_ configuration: ConvNetConfiguration, name: String = "convnet") {
    var layers: [ConvLayerSpec] = []
    for block in configuration.stages.joined() {
      switch block {
      case .conv(_, let kernel, let stride, let padding, let dilation, _, _):
        layers.append(ConvLayerSpec(.conv, kernel: kernel, stride: stride, padding: padding, dilation: dilation))
      case .pool(_, let kernel, let stride, let padding):
        layers.append(ConvLayerSpec(.pool, kernel: kernel, stride: stride, padding: padding))
      case .basic(_, let stride):
        layers.append(ConvLayerSpec(.conv, kernel: 3, stride: stride, padding: 1))
        layers.append(ConvLayerSpec(.conv, kernel: 3, padding: 1))
      }
    }
    self.init(name: name, layers: layers)
  }
}
