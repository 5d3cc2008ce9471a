import Testing
@testable import PatchClassifyKit

/// The schedule planner with injected timings: a pure function of the seconds left and an
/// epoch's measured cost, so no assertion here depends on the machine's speed.
struct SchedulePlanTests {
  /// 2,400 images ask for 125 epochs; the budget allows ⌊left / epoch⌋, at least one.
  @Test(arguments: [
    (750.0, 6.0, 125, SchedulePlan.Reason.dataSize),  // exactly 125 epochs fit
    (749.9, 6.0, 124, .budget),  // a tenth of a second short of the 125th
    (5.9, 6.0, 1, .budget),  // less than one epoch: still one
    (0, 6.0, 1, .budget),
    (1e6, 1e-6, 125, .dataSize),  // any fast machine
  ])
  func theSmallerRuleWins(secondsLeft: Double, secondsPerEpoch: Double, epochs: Int, reason: SchedulePlan.Reason) {
    let plan = SchedulePlan.plan(trainingImages: 2_400, secondsLeft: secondsLeft, secondsPerEpoch: secondsPerEpoch)
    #expect(plan.epochs == epochs && plan.reason == reason, "\(plan)")
    #expect(plan.epochsForDataSize == 125)
    #expect(plan.epochs == min(plan.epochsForDataSize!, plan.epochsWithinBudget!))
  }

  /// The log line the command prints (PatchClassifyCommandTests reads it).
  @Test func theLogLineNamesWhatDecided() {
    let budget = SchedulePlan.plan(trainingImages: 2_400, secondsLeft: -4, secondsPerEpoch: 0.01)
    #expect(budget.describe(budgetMinutes: 0.1) == "1 epoch, set by the 0.1-minute budget (the data set's size asks for 125)")
    let size = SchedulePlan.plan(trainingImages: 2_400, secondsLeft: 900, secondsPerEpoch: 6)
    #expect(size.describe(budgetMinutes: 15) == "125 epochs, set by the data set's size (the 15-minute budget allows 150)")
    #expect(SchedulePlan.given(3).describe(budgetMinutes: 15) == "3 epochs (--epochs)")
  }
}
