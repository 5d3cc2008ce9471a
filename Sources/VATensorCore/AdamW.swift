import CVAKernels
import Foundation

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), as `torch.optim.AdamW`:
///
///     θ ← θ·(1 − lr·λ)
///     m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²
///     θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
///
/// `t` counts steps per parameter (a parameter first updated late starts its own bias correction,
/// as PyTorch). State is keyed by tensor identity with the tensor retained; parameters without a
/// gradient are skipped. O(parameter count) per step, two extra floats of state per scalar.
public struct AdamW {
  /// Decay rate of the first-moment (mean) estimate `m`.
  public var beta1: Float
  /// Decay rate of the second-moment (uncentred variance) estimate `v`.
  public var beta2: Float
  /// Added to `√v̂` so the step stays finite where gradients vanish.
  public var epsilon: Float
  /// Decoupled decay λ: each step scales θ by `1 − lr·λ` before the Adam update.
  public var weightDecay: Float

  private struct Moments {
    var tensor: Tensor
    var step: Int
    var m: [Float]
    var v: [Float]
  }
  private var state: [ObjectIdentifier: Moments] = [:]

  /// Creates the optimiser with PyTorch's defaults (`betas = (0.9, 0.999)`, `eps = 1e-8`, `λ = 0.01`).
  public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
    precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must be in [0, 1), got \(beta1), \(beta2)")
    precondition(epsilon > 0 && weightDecay >= 0, "epsilon \(epsilon) must be positive and weightDecay \(weightDecay) non-negative")
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  /// Number of update steps taken so far for `parameter` (0 before its first update).
  public func stepCount(of parameter: Tensor) -> Int { state[ObjectIdentifier(parameter)]?.step ?? 0 }

  /// Applies one update to every parameter that has a gradient.
  ///
  /// `excludingWeightDecay` lists tensors updated with λ = 0 (biases and norm gains, by convention).
  public mutating func step(_ parameters: [Tensor], learningRate lr: Float, excludingWeightDecay: [Tensor] = []) {
    let noDecay = Set(excludingWeightDecay.map(ObjectIdentifier.init))
    for p in parameters {
      guard let grad = p.grad else { continue }
      precondition(grad.count == p.count, "gradient of \(grad.count) elements for parameter \(p.shape)")
      let key = ObjectIdentifier(p)
      var s =
        state.removeValue(forKey: key)
        ?? Moments(tensor: p, step: 0, m: [Float](repeating: 0, count: p.count), v: [Float](repeating: 0, count: p.count))
      s.step += 1
      // Bias corrections in Double: β₂ᵗ loses precision in Float over long runs.
      let c1 = Float(1 - Foundation.pow(Double(beta1), Double(s.step)))
      let c2 = Float(1 - Foundation.pow(Double(beta2), Double(s.step)))
      let decay = 1 - lr * (noDecay.contains(key) ? 0 : weightDecay)
      let scalars = cva_adamw_scalars(
        decay: decay, beta1: beta1, one_minus_beta1: 1 - beta1, beta2: beta2, one_minus_beta2: 1 - beta2,
        c1: c1, c2: c2, lr: lr, epsilon: epsilon)
      p.scalars.withUnsafeMutableBufferPointer { theta in
        guard !theta.isEmpty else { return }
        grad.scalars.withUnsafeBufferPointer { g in
          s.m.withUnsafeMutableBufferPointer { m in
            s.v.withUnsafeMutableBufferPointer { v in
              // Elements are independent: large parameters split across cores, each chunk
              // vectorised in CVAKernels (cva_adamw_step: this loop's operations, same bits):
              //   θ ← θ·decay;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g·g;  θ ← θ − lr·(m/c1) / (√(v/c2) + ε)
              withUnsafePointer(to: scalars) { scalars in
                forEachElementChunk(theta.count, minimumChunk: 1 << 14) { range in
                  cva_adamw_step(
                    theta.baseAddress! + range.lowerBound, g.baseAddress! + range.lowerBound, m.baseAddress! + range.lowerBound,
                    v.baseAddress! + range.lowerBound, range.count, scalars)
                }
              }
            }
          }
        }
      }
      state[key] = s
    }
  }
}

extension AdamW {
  /// One parameter's optimiser state, for checkpoints: steps taken and both moment estimates
  /// (each with the parameter's element count).
  public struct ParameterState: Equatable, Sendable {
    /// Optimiser steps taken for this parameter, `t` in the bias corrections `1 − βᵗ`.
    public var step: Int
    /// First-moment estimate (running mean of gradients), one per element.
    public var m: [Float]
    /// Second-moment estimate (running mean of squared gradients), one per element.
    public var v: [Float]

    /// A saved state.
    /// - Precondition: `m` and `v` have the same element count.
    public init(step: Int, m: [Float], v: [Float]) {
      precondition(m.count == v.count, "moment estimates of \(m.count) and \(v.count) elements")
      self.step = step
      self.m = m
      self.v = v
    }
  }

  /// The state of `parameter`, or nil before its first update.
  public func state(of parameter: Tensor) -> ParameterState? {
    state[ObjectIdentifier(parameter)].map { ParameterState(step: $0.step, m: $0.m, v: $0.v) }
  }

  /// Restores `parameter`'s state (resuming from a checkpoint continues the exact same run).
  public mutating func setState(_ s: ParameterState, of parameter: Tensor) {
    precondition(s.m.count == parameter.count, "state of \(s.m.count) elements for parameter \(parameter.shape)")
    state[ObjectIdentifier(parameter)] = Moments(tensor: parameter, step: s.step, m: s.m, v: s.v)
  }
}
