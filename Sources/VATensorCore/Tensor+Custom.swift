/// Operations defined outside this module by their values and their vector-Jacobian product.

extension Tensor {
  /// A tensor computed by the caller from `inputs`, recorded on the tape with the caller's
  /// backward, for losses whose gradient is cheaper written by hand than composed from ops
  /// (DETR's set criterion: a matching, a weighted cross-entropy and box losses in one pass).
  ///
  /// `backward` maps the output's gradient (`shape`'s element count) to one gradient per input,
  /// each with that input's element count, or `nil` where the input needs none; it runs only
  /// when gradients are recorded and some input requires them (as `torch.autograd.Function`).
  public static func custom(
    shape: [Int], scalars: [Float], inputs: [Tensor], backward: @escaping ([Float]) -> [[Float]?]
  ) -> Tensor {
    let out = Tensor(shape: shape, scalars: scalars)
    guard inputs.contains(where: \.requiresGrad) && GradientMode.isEnabled else { return out }
    return out.recording(inputs, backward)
  }
}
