import VATensorCore

/// A 2-D convolution layer (cross-correlation, as `torch.nn.Conv2d`).
///
/// Shapes: `x` is `[N, C_in, H, W]`, `weight` `[C_out, C_in / groups, k, k]`, `bias` `[C_out]`;
/// the output is `[N, C_out, H_out, W_out]` with `H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1`.
/// Square kernels, strides, paddings and dilations only (all this toolkit's CNNs use).
/// Parameter names match `nn.Conv2d`'s `state_dict`: `weight`, `bias`.
public struct Conv2D: ParameterContainer, Sendable {
  /// The kernels, `[C_out, C_in / groups, k, k]` (`nn.Conv2d.weight`).
  public var weight: Tensor
  /// The bias, `[C_out]`, or nil for a convolution without one (before a batch norm).
  public var bias: Tensor?
  /// The step between output positions, in pixels, along both axes.
  public let stride: Int
  /// Zero padding added on every side, in pixels.
  public let padding: Int
  /// The spacing between kernel taps (1 for a dense kernel).
  public let dilation: Int
  /// The number of channel groups: each output channel sees `C_in / groups` input channels
  /// (one for a depthwise convolution, `groups = C_in`).
  public let groups: Int

  /// A layer from existing tensors (e.g. a checkpoint).
  public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
    precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "Conv2D weight must be [out, in/groups, k, k], got \(weight.shape)")
    if let bias { precondition(bias.shape == [weight.shape[0]], "Conv2D bias \(bias.shape) does not match weight \(weight.shape)") }
    precondition(
      stride > 0 && padding >= 0 && dilation > 0 && groups > 0 && weight.shape[0] % groups == 0,
      "Conv2D needs stride \(stride) > 0, padding \(padding) >= 0, dilation \(dilation) > 0 and groups \(groups) dividing \(weight.shape[0]) outputs")
    self.weight = weight
    self.bias = bias
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
  }

  /// A freshly initialised layer: He (Kaiming) normal weights with fan-out and ReLU gain,
  /// `std = √(2 / (C_out · k²))`, and a zero bias, as torchvision's ResNet and VGG initialise
  /// their convolutions (He et al. 2015, "Delving Deep into Rectifiers", §2.2).
  public init<G: RandomNumberGenerator>(
    inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
    bias: Bool = true, using rng: inout G
  ) {
    precondition(inputs % groups == 0, "Conv2D groups \(groups) must divide inputs \(inputs)")
    let std = (2 / Float(outputs * kernel * kernel)).squareRoot()
    self.init(
      weight: Tensor.randomNormal([outputs, inputs / groups, kernel, kernel], std: std, using: &rng),
      bias: bias ? Tensor.zeros([outputs]) : nil, stride: stride, padding: padding, dilation: dilation, groups: groups)
  }

  /// Input channels `C_in`.
  public var inputs: Int { weight.shape[1] * groups }
  /// Output channels `C_out`.
  public var outputs: Int { weight.shape[0] }
  /// The side `k` of the square kernel.
  public var kernel: Int { weight.shape[2] }

  /// The convolution of `x`, `[N, C_in, H, W]` → `[N, C_out, H_out, W_out]`.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[1] == inputs, "Conv2D expects [N, \(inputs), H, W], got \(x.shape)")
    return conv2d(
      x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
      dilation: (dilation, dilation), groups: groups)
  }

  /// `weight` and, if present, `bias`, under PyTorch's state-dict names.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }
}
