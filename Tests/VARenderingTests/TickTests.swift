import Testing
@testable import VARendering

/// Tick choice and labels against matplotlib (TickFixtures.swift, written by
/// Scripts/reference/tick_fixtures.py).
struct TickTests {
  @Test(arguments: TickFixtures.cases.indices)
  func ticksMatchMatplotlibsMaxNLocator(_ index: Int) {
    let c = TickFixtures.cases[index]
    let ticks = Ticks.maxN(c.vmin, c.vmax, bins: c.bins, integer: c.integer)
    #expect(ticks.count == c.ticks.count, "\(c.vmin)...\(c.vmax), \(c.bins) bins: \(ticks) against \(c.ticks)")
    // Relative to the range: both are k · step + start in floating point.
    let tolerance = 1e-9 * (c.vmax - c.vmin)
    #expect(zip(ticks, c.ticks).allSatisfy { abs($0 - $1) <= tolerance }, "\(ticks) against \(c.ticks)")
  }

  @Test(arguments: TickFixtures.cases.indices)
  func labelsMatchMatplotlibsScalarFormatter(_ index: Int) {
    let c = TickFixtures.cases[index]
    #expect(Ticks.labels(Ticks.inside(c.ticks, c.vmin, c.vmax)) == c.labels)
  }
}
