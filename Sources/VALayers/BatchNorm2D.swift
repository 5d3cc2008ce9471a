import VATensorCore

/// Batch normalisation of a feature map's channels (Ioffe & Szegedy 2015), as
/// `torch.nn.BatchNorm2d(channels)` with its defaults (affine, tracked running statistics).
///
/// Shapes: `x` is `[N, C, H, W]`; the output has the same shape.
/// With `training: true` the batch's statistics normalise and the running statistics are
/// updated in place (momentum 0.1, unbiased variance); with `training: false` the running
/// statistics normalise. Parameters `weight` (γ, starts at 1) and `bias` (β, starts at 0);
/// buffers `running_mean` (starts at 0) and `running_var` (starts at 1), the names of
/// PyTorch's `state_dict`. (PyTorch's third buffer, the integer `num_batches_tracked`, only
/// matters when momentum is `None`; `load_state_dict` fills it in when a file lacks it.)
public struct BatchNorm2D: ParameterContainer, BufferContainer, Sendable {
  /// The learned scale γ, `[C]` (`weight` in the state dict).
  public var weight: Tensor
  /// The learned shift β, `[C]` (`bias` in the state dict).
  public var bias: Tensor
  /// The running mean of each channel, `[C]` (`running_mean`), used in inference.
  public var runningMean: Tensor
  /// The running unbiased variance of each channel, `[C]` (`running_var`), used in inference.
  public var runningVariance: Tensor
  /// Weight of the newest batch in the running statistics (PyTorch's default 0.1).
  public var momentum: Float
  /// Added to the variance before the square root (PyTorch's default 1e-5).
  public var eps: Float

  /// A fresh layer over `channels` channels: γ = 1, β = 0, running mean 0, running variance 1.
  public init(channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
    precondition(channels > 0, "BatchNorm2D needs at least one channel, got \(channels)")
    weight = Tensor.ones([channels])
    bias = Tensor.zeros([channels])
    runningMean = Tensor.zeros([channels])
    runningVariance = Tensor.ones([channels])
    self.momentum = momentum
    self.eps = eps
  }

  /// The number of channels `C` the layer normalises.
  public var channels: Int { weight.count }

  /// Normalises `x`; in training mode also updates the running statistics (in place).
  public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
    precondition(x.rank >= 2 && x.shape[1] == channels, "BatchNorm2D expects [N, \(channels), ...], got \(x.shape)")
    return batchNorm2d(
      x, weight: weight, bias: bias, runningMean: runningMean, runningVariance: runningVariance,
      mode: training ? .training(momentum: momentum) : .inference, eps: eps)
  }

  /// `weight` and `bias`, under PyTorch's state-dict names.
  public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
  /// `running_mean` and `running_var`, under PyTorch's state-dict names.
  public var namedBuffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }
}
