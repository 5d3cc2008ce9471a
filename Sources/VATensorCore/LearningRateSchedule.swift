import Foundation

/// A learning-rate schedule: linear warmup from 0 to `peak`, then decay to `minimum`.
///
/// With `decay == .cosine` this is Hugging Face's `get_cosine_schedule_with_warmup` (and timm's
/// cosine scheduler with `warmup_lr_init = 0`) lifted by `minimum`:
///
///     step < warmup:  lr = peak · step / warmup
///     otherwise:      p = (step − warmup) / (total − warmup),  lr = min + (peak − min) · ½(1 + cos πp)
///
/// Steps past `totalSteps` stay at `minimum`. A value type: store it, call it with the step.
public struct LearningRateSchedule: Equatable, Sendable {
  /// How the rate falls after warmup.
  public enum Decay: Equatable, Sendable {
    /// Half a cosine from `peak` to `minimum` (Loshchilov & Hutter, SGDR 2017, without restarts).
    case cosine
    /// A straight line from `peak` to `minimum`.
    case linear
    /// Stay at `peak`.
    case constant
  }

  /// Rate reached at the end of warmup.
  public var peak: Float
  /// Steps of the linear ramp from 0 to `peak`.
  public var warmupSteps: Int
  /// Step at which the decay reaches `minimum` (warmup included).
  public var totalSteps: Int
  /// Floor the decay ends at and stays on.
  public var minimum: Float
  /// Shape of the decay after warmup.
  public var decay: Decay

  /// Creates a schedule; needs `0 <= warmupSteps <= totalSteps` and `0 <= minimum <= peak`.
  public init(peak: Float, warmupSteps: Int = 0, totalSteps: Int, minimum: Float = 0, decay: Decay = .cosine) {
    precondition(warmupSteps >= 0 && warmupSteps <= totalSteps, "need 0 <= warmupSteps (\(warmupSteps)) <= totalSteps (\(totalSteps))")
    precondition(minimum >= 0 && minimum <= peak, "need 0 <= minimum (\(minimum)) <= peak (\(peak))")
    self.peak = peak
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
    self.minimum = minimum
    self.decay = decay
  }

  /// The learning rate to use for 0-based optimiser step `step`.
  public func callAsFunction(_ step: Int) -> Float {
    if step < warmupSteps { return peak * Float(step) / Float(warmupSteps) }
    let span = totalSteps - warmupSteps
    let progress = span == 0 ? 1 : Swift.min(1, Double(step - warmupSteps) / Double(span))
    let factor: Double
    switch decay {
    case .cosine: factor = 0.5 * (1 + Foundation.cos(Double.pi * progress))
    case .linear: factor = 1 - progress
    case .constant: return peak
    }
    return minimum + (peak - minimum) * Float(factor)
  }
}
