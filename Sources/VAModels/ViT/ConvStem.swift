import VALayers
import VATensorCore

/// The stem's normalised, activated convolutions (the `1 × 1` projection after them is the
/// model's `PatchEmbedding` with a patch side of 1).
///
/// Shapes: `[B, 3, H, W]` → `[B, C_last, H/s, W/s]` with `s` the total stride. Names as timm's
/// `ConvStem`: `<i>.conv.weight`, `<i>.bn.{weight, bias}`, buffers `<i>.bn.running_{mean,var}`.
public struct ConvStem: ParameterContainer, BufferContainer, Sendable {
  /// The convolution, BatchNorm, ReLU units in order (timm's `ConvStem.stem.<i>`).
  public var units: [ConvUnit]

  /// A stem from built units (e.g. loaded from a checkpoint).
  public init(units: [ConvUnit]) { self.units = units }

  /// He-initialised convolutions (fan-out, as torchvision's ResNets), unit BatchNorms.
  public init<G: RandomNumberGenerator>(_ shape: ConvStemShape, using rng: inout G) {
    var inputs = 3
    units = zip(shape.hiddenChannels, zip(shape.kernels, shape.strides)).map { channels, ks in
      defer { inputs = channels }
      return ConvUnit(
        conv: Conv2D(
          inputs: inputs, outputs: channels, kernel: ks.0, stride: ks.1,
          padding: ConvStemShape.padding(kernel: ks.0, stride: ks.1), bias: false, using: &rng),
        bn: BatchNorm2D(channels: channels), activation: .relu)
    }
  }

  /// `training` uses the batch's statistics and updates the running ones (BatchNorm).
  public func callAsFunction(_ images: Tensor, training: Bool) -> Tensor {
    units.reduce(images) { x, unit in unit(x, training: training) }
  }

  /// The channels of the last unit's output (3, the image's, for an empty stem).
  public var outputChannels: Int { units.last?.conv.outputs ?? 3 }

  /// Parameters under timm's names, `<i>.conv.weight`, `<i>.bn.weight`, `<i>.bn.bias`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    units.enumerated().flatMap { prefixed("\($0.offset)", $0.element) }
  }
  /// The BatchNorms' running statistics, `<i>.bn.running_mean`, `<i>.bn.running_var`.
  public var namedBuffers: [(name: String, tensor: Tensor)] {
    units.enumerated().flatMap { prefixedBuffers("\($0.offset)", $0.element) }
  }
}
