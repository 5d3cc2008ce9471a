import Foundation

/// Axis ticks and their labels as matplotlib chooses them by default.
///
/// Reference: matplotlib 3.11 `ticker.MaxNLocator._raw_ticks` (the `AutoLocator` is
/// `MaxNLocator(nbins='auto', steps=[1, 2, 2.5, 5, 10])`) and `ScalarFormatter._set_format`;
/// tested against both on the ranges in Scripts/reference/tick_fixtures.py.
public enum Ticks {
  /// matplotlib's default steps: ticks at multiples of 1, 2, 2.5 or 5 × 10^k.
  public static let defaultSteps: [Double] = [1, 2, 2.5, 5, 10]

  /// Tick positions covering `vmin…vmax` with at most `bins` intervals (the first and last
  /// may lie outside the range; `inside` keeps those within it).
  /// - Parameters:
  ///   - integer: only whole-number steps, as `MaxNLocator(integer=True)` (layers, epochs),
  ///     relaxed when fewer than `minimumTicks` whole numbers fit.
  public static func maxN(_ vmin: Double, _ vmax: Double, bins: Int, steps: [Double] = defaultSteps, integer: Bool = false, minimumTicks: Int = 2) -> [Double] {
    var (vmin, vmax) = nonsingular(vmin, vmax)
    if vmax < vmin { swap(&vmin, &vmax) }
    let bins = max(bins, 1)
    let (scale, offset) = scaleRange(vmin, vmax, bins: bins)
    let low = vmin - offset, high = vmax - offset
    // The extended staircase: 0.1 × steps (but 10), steps, and 10 × the second step.
    var staircase = (steps.dropLast().map { $0 * 0.1 } + steps + [10 * steps[1]]).map { $0 * scale }
    if integer { staircase = staircase.filter { $0 < 1 || abs($0 - $0.rounded()) < 0.001 } }
    let rawStep = (high - low) / Double(bins)
    let largeIndex = staircase.firstIndex { $0 >= rawStep } ?? staircase.count - 1
    var ticks: [Double] = []
    for candidate in staircase[...largeIndex].reversed() {
      var step = candidate
      if integer && (high.rounded(.down) - low.rounded(.up)) >= Double(minimumTicks - 1) { step = max(1, step) }
      let best = floorDivide(low, step) * step
      let first = edgeLessOrEqual(low - best, step: step, offset: offset)
      let last = edgeGreaterOrEqual(high - best, step: step, offset: offset)
      ticks = stride(from: first, through: last, by: 1).map { $0 * step + best }
      if ticks.filter({ $0 <= high && $0 >= low }).count >= minimumTicks { break }
    }
    return ticks.map { $0 + offset }
  }

  /// The labels matplotlib's `ScalarFormatter` (no offset, no exponent) writes for `ticks`:
  /// every label with the same number of decimals, the fewest that show each tick to a
  /// thousandth of the ticks' range ("0.00", "0.25", … "1.00"; "0", "100", "200").
  /// Ranges whose ticks reach 10⁶ or below 10⁻⁵ are written `%.3g`, where matplotlib
  /// would move an exponent beside the axis.
  public static func labels(_ ticks: [Double]) -> [String] {
    guard let largest = ticks.map(abs).max() else { return [] }
    if largest >= 1e6 || (largest > 0 && largest < 1e-5) { return ticks.map { String(format: "%.3g", $0) } }
    var range = (ticks.max() ?? 0) - (ticks.min() ?? 0)
    if range == 0 { range = largest }
    if range == 0 { range = 1 }
    let magnitude = Int(log10(range).rounded(.down))
    var decimals = max(0, 3 - magnitude)
    let threshold = 1e-3 * pow(10, Double(magnitude))
    while decimals >= 0 {
      let p = pow(10, Double(decimals))
      if ticks.map({ abs($0 - ($0 * p).rounded(.toNearestOrEven) / p) }).max()! < threshold { decimals -= 1 } else { break }
    }
    decimals += 1
    return ticks.map { value in
      let text = String(format: "%.\(decimals)f", value)
      // "-0.0" reads as a different number from "0.0".
      return text.hasPrefix("-") && text.dropFirst().allSatisfy { $0 == "0" || $0 == "." } ? String(text.dropFirst()) : text
    }
  }

  /// Ticks within `vmin…vmax` (a billionth of the range of slack for rounding).
  public static func inside(_ ticks: [Double], _ vmin: Double, _ vmax: Double) -> [Double] {
    let slack = 1e-9 * abs(vmax - vmin)
    return ticks.filter { $0 >= vmin - slack && $0 <= vmax + slack }
  }

  // matplotlib's transforms._nonsingular(expander=1e-13, tiny=1e-14).
  static func nonsingular(_ vmin: Double, _ vmax: Double) -> (Double, Double) {
    let expander = 1e-13, tiny = 1e-14
    guard vmin.isFinite, vmax.isFinite else { return (-expander, expander) }
    let (a, b) = vmin <= vmax ? (vmin, vmax) : (vmax, vmin)
    let largest = max(abs(a), abs(b))
    if largest < 1e6 / tiny * Double.leastNormalMagnitude { return (-expander, expander) }
    if b - a <= largest * tiny {
      if a == 0 && b == 0 { return (-expander, expander) }
      return (a - expander * abs(a), b + expander * abs(b))
    }
    return (a, b)
  }

  // ticker.scale_range(threshold=100).
  static func scaleRange(_ vmin: Double, _ vmax: Double, bins: Int) -> (scale: Double, offset: Double) {
    let span = abs(vmax - vmin), mean = (vmax + vmin) / 2
    let offset = abs(mean) / span < 100 ? 0 : copysign(pow(10, log10(abs(mean)).rounded(.down)), mean)
    return (pow(10, log10(span / Double(bins)).rounded(.down)), offset)
  }

  // Python's float divmod: the floor quotient and a remainder with the divisor's sign.
  static func divmod(_ x: Double, _ y: Double) -> (quotient: Double, remainder: Double) {
    var remainder = fmod(x, y)
    var quotient = (x - remainder) / y
    if remainder != 0, (y < 0) != (remainder < 0) {
      remainder += y
      quotient -= 1
    }
    var floored = quotient.rounded(.down)
    if quotient - floored > 0.5 { floored += 1 }
    return (floored, remainder)
  }

  static func floorDivide(_ x: Double, _ y: Double) -> Double { divmod(x, y).quotient }

  // ticker._Edge_integer: tick indices at the range's ends, with slack for rounding.
  static func edgeTolerance(step: Double, offset: Double) -> Double {
    guard offset != 0 else { return 1e-10 }
    return min(0.4999, max(1e-10, pow(10, log10(abs(offset) / step) - 12)))
  }

  static func edgeLessOrEqual(_ x: Double, step: Double, offset: Double) -> Double {
    let (d, m) = divmod(x, step)
    return abs(m / step - 1) < edgeTolerance(step: step, offset: offset) ? d + 1 : d
  }

  static func edgeGreaterOrEqual(_ x: Double, step: Double, offset: Double) -> Double {
    let (d, m) = divmod(x, step)
    return abs(m / step) < edgeTolerance(step: step, offset: offset) ? d : d + 1
  }
}
