/// Stochastic gradient descent with momentum and (coupled, L2) weight decay, as `torch.optim.SGD`:
///
///     g ← ∇ + λ·θ;   b ← μ·b + (1 − dampening)·g  (b ← g on the first step);
///     g ← g + μ·b (Nesterov) or g ← b;   θ ← θ − lr·g
///
/// State is keyed by tensor identity (the tensor is retained, so identities are never reused);
/// parameters without a gradient are skipped. O(parameter count) per step.
public struct SGD {
  /// Momentum factor μ (0 disables the velocity buffer).
  public var momentum: Float
  /// Fraction of each new gradient withheld from the velocity buffer.
  public var dampening: Float
  /// L2 penalty λ added to the gradient (coupled, unlike AdamW's).
  public var weightDecay: Float
  /// Whether to use Nesterov's look-ahead form `g + μ·b`.
  public var nesterov: Bool
  private var velocity: [ObjectIdentifier: (tensor: Tensor, buffer: [Float])] = [:]

  /// Creates the optimiser; Nesterov needs `momentum > 0` and `dampening == 0` (as PyTorch).
  public init(momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
    precondition(momentum >= 0 && weightDecay >= 0, "momentum \(momentum) and weightDecay \(weightDecay) must be non-negative")
    precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov needs momentum > 0 and zero dampening, got \(momentum), \(dampening)")
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
  }

  /// Applies one update to every parameter that has a gradient.
  public mutating func step(_ parameters: [Tensor], learningRate lr: Float) {
    for p in parameters {
      guard let grad = p.grad else { continue }
      precondition(grad.count == p.count, "gradient of \(grad.count) elements for parameter \(p.shape)")
      let key = ObjectIdentifier(p)
      var state = velocity.removeValue(forKey: key)
      let first = state == nil
      var buffer = state?.buffer ?? [Float](repeating: 0, count: p.count)
      let (mu, damp, wd, nesterov) = (momentum, dampening, weightDecay, nesterov)
      p.scalars.withUnsafeMutableBufferPointer { theta in
        grad.scalars.withUnsafeBufferPointer { g in
          buffer.withUnsafeMutableBufferPointer { b in
            for i in 0..<theta.count {
              var d = g[i] + wd * theta[i]
              if mu != 0 {
                b[i] = first ? d : mu * b[i] + (1 - damp) * d
                d = nesterov ? d + mu * b[i] : b[i]
              }
              theta[i] -= lr * d
            }
          }
        }
      }
      if momentum != 0 {
        state = (p, buffer)
        velocity[key] = state
      }
    }
  }
}
