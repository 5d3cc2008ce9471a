/// The named-parameter convention: models list their trainable tensors with stable dotted names
/// ("blocks.0.attn.qkv.weight"), which optimisers, checkpoint loaders and inspectors all share.

/// A type that owns trainable tensors.
///
/// Conform by listing every trainable tensor once, in a fixed order, with names that match the
/// PyTorch `state_dict` keys where a checkpoint exists (mapping happens at the import boundary).
public protocol ParameterContainer {
  /// Every trainable tensor with its dotted name, in a stable order.
  var namedParameters: [(name: String, tensor: Tensor)] { get }
}

extension ParameterContainer {
  /// The trainable tensors in `namedParameters` order (what optimisers take).
  public var parameters: [Tensor] { namedParameters.map(\.tensor) }

  /// Total number of scalars over all parameters.
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }

  /// Clears every parameter's accumulated gradient (call before each backward pass).
  public func zeroGradients() { VATensorCore.zeroGradients(parameters) }

  /// Marks every parameter as requiring (or not requiring) gradients.
  public func setRequiresGrad(_ value: Bool) {
    for p in parameters { p.requiresGrad = value }
  }
}

/// A child container's parameters with `prefix.` prepended to each name, for composing models:
/// `prefixed("blocks.\(i)", block) + prefixed("head", head)`.
public func prefixed(_ prefix: String, _ child: some ParameterContainer) -> [(name: String, tensor: Tensor)] {
  child.namedParameters.map { ("\(prefix).\($0.name)", $0.tensor) }
}

/// Clears the accumulated gradients of `parameters`.
public func zeroGradients(_ parameters: [Tensor]) {
  for p in parameters { p.grad = nil }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` (scale `maxNorm / (norm + 1e-6)` applied only when below 1).
///
/// Returns the norm before clipping (summed in `Double`). Parameters without gradients are skipped.
/// O(total parameter count).
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
  precondition(maxNorm > 0, "maxNorm must be positive, got \(maxNorm)")
  var sumSquares = 0.0
  for p in parameters {
    guard let g = p.grad else { continue }
    for v in g.scalars { sumSquares += Double(v) * Double(v) }
  }
  let norm = Float(sumSquares.squareRoot())
  let scale = maxNorm / (norm + 1e-6)
  if scale < 1 {
    for p in parameters {
      guard let g = p.grad else { continue }
      g.scalars.withUnsafeMutableBufferPointer { buffer in
        for i in 0..<buffer.count { buffer[i] *= scale }
      }
    }
  }
  return norm
}
