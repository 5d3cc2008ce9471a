import VALayers
import VATensorCore

/// Batch normalisation with fixed statistics and affine parameters, as DETR's backbone runs it.
///
/// `y = x · scale + shift` per channel, with `scale = γ · rsqrt(running_var + ε)` and
/// `shift = β − running_mean · scale`, ε = 1e-5: transformers' `DetrFrozenBatchNorm2d`
/// (torchvision's `FrozenBatchNorm2d` with ε before the rsqrt). `batchNorm2d`'s inference mode
/// folds the statistics into exactly this scale and shift (same products, same order), so this
/// layer runs through it: one pass over `x` instead of two broadcast tensor ops (a 3× faster
/// backbone in debug builds), with its backward when gradients are recorded.
///
/// Shapes: `x` is `[N, C, H, W]`; the output has the same shape.
/// Names as the state dict: `weight`, `bias`, `running_mean`, `running_var` (all buffers in
/// transformers; `num_batches_tracked` is dropped on load, as transformers does).
public struct FrozenBatchNorm2D: Sendable {
  /// γ, `[C]`.
  public let weight: Tensor
  /// β, `[C]`.
  public let bias: Tensor
  /// μ, `[C]`.
  public let runningMean: Tensor
  /// σ², `[C]`.
  public let runningVariance: Tensor
  /// Added to the variance before the reciprocal square root (fixed at 1e-5 in transformers).
  public let eps: Float

  /// A layer from the four `[C]` tensors of a checkpoint.
  public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVariance: Tensor, eps: Float = 1e-5) {
    let c = weight.count
    precondition(
      weight.shape == [c] && bias.shape == [c] && runningMean.shape == [c] && runningVariance.shape == [c],
      "FrozenBatchNorm2D needs four [C] tensors, got \(weight.shape), \(bias.shape), \(runningMean.shape), \(runningVariance.shape)")
    self.weight = weight
    self.bias = bias
    self.runningMean = runningMean
    self.runningVariance = runningVariance
    self.eps = eps
  }

  /// The number of channels `C`.
  public var channels: Int { weight.count }

  /// `x · scale + shift`, `[N, C, H, W]` → `[N, C, H, W]`.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[1] == channels, "FrozenBatchNorm2D expects [N, \(channels), H, W], got \(x.shape)")
    return batchNorm2d(x, weight: weight, bias: bias, runningMean: runningMean, runningVariance: runningVariance, mode: .inference, eps: eps)
  }
}
