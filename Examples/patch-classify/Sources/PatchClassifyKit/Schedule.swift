import Foundation

/// How many epochs a run trains when `--epochs` is not given: enough passes for the data
/// set's size, as many as fit the time budget.
///
/// Small data sets need many passes (a transformer sees each of 1,500 images a hundred times
/// before it stops improving) and large ones few, so the size rule aims at a fixed number of
/// training samples seen, `samplesSeen`, within `epochRange`. The budget rule divides the
/// time left by the measured cost of an epoch (its steps and its validation pass). The
/// smaller of the two wins, so a slow machine trains for less, never for longer than asked.
public struct SchedulePlan: Sendable, Equatable {
  /// What fixed the number of epochs.
  public enum Reason: String, Sendable {
    /// `--epochs`.
    case given
    /// The data set's size (the budget allowed more).
    case dataSize = "data size"
    /// The time budget (the data set's size asked for more).
    case budget
  }

  public var epochs: Int
  public var reason: Reason
  /// What each rule asked for (nil for a given schedule).
  public var epochsForDataSize: Int?
  public var epochsWithinBudget: Int?

  /// Training samples the size rule aims to show the model.
  public static let samplesSeen = 300_000
  public static let epochRange = 10...150

  /// `epochs` given by the user.
  public static func given(_ epochs: Int) -> SchedulePlan {
    SchedulePlan(epochs: epochs, reason: .given, epochsForDataSize: nil, epochsWithinBudget: nil)
  }

  /// Epochs for `trainingImages` images: `samplesSeen / trainingImages`, rounded, clamped to
  /// `epochRange`.
  public static func epochs(forTrainingImages trainingImages: Int) -> Int {
    let raw = (Double(samplesSeen) / Double(max(1, trainingImages))).rounded()
    return Int(min(Double(epochRange.upperBound), max(Double(epochRange.lowerBound), raw)))
  }

  /// The plan for `trainingImages` images, given `secondsLeft` of the budget and the measured
  /// cost of one epoch. At least one epoch, whatever the budget.
  public static func plan(trainingImages: Int, secondsLeft: Double, secondsPerEpoch: Double) -> SchedulePlan {
    let bySize = epochs(forTrainingImages: trainingImages)
    let byBudget = max(1, Int((secondsLeft / max(secondsPerEpoch, 1e-9)).rounded(.down)))
    return SchedulePlan(
      epochs: min(bySize, byBudget), reason: byBudget < bySize ? .budget : .dataSize,
      epochsForDataSize: bySize, epochsWithinBudget: byBudget)
  }

  /// One line for the log, e.g. "83 epochs, set by the data size (the 15-minute budget allows 97)".
  public func describe(budgetMinutes: Double) -> String {
    let plural = epochs == 1 ? "epoch" : "epochs"
    let minutes = budgetMinutes.rounded() == budgetMinutes ? String(Int(budgetMinutes)) : String(budgetMinutes)
    switch reason {
    case .given: return "\(epochs) \(plural) (--epochs)"
    case .dataSize: return "\(epochs) \(plural), set by the data set's size (the \(minutes)-minute budget allows \(epochsWithinBudget ?? 0))"
    case .budget: return "\(epochs) \(plural), set by the \(minutes)-minute budget (the data set's size asks for \(epochsForDataSize ?? 0))"
    }
  }
}
