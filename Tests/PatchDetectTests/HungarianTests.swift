import Foundation
import PatchDetectKit
import Testing

/// The JSON fixtures of the training side's tests (written by
/// Scripts/reference/detect_loss_fixtures.py and detect_model_fixtures.py), namespaced so the
/// target's other suites can have helpers of their own.
enum DetectTrainFixture {
  /// A JSON fixture from this target's Fixtures folder.
  static func load(_ name: String) throws -> Any {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
  }

  /// Numbers of a JSON array as `Double`s.
  static func doubles(_ value: Any?) -> [Double] { (value as? [NSNumber] ?? []).map(\.doubleValue) }
  /// Numbers of a JSON array as `Float`s.
  static func floats(_ value: Any?) -> [Float] { (value as? [NSNumber] ?? []).map(\.floatValue) }
  /// Numbers of a JSON array as `Int`s.
  static func integers(_ value: Any?) -> [Int] { (value as? [NSNumber] ?? []).map(\.intValue) }
}

@Suite struct HungarianTests {
  /// scipy's linear_sum_assignment on random float32 matrices, square and rectangular both
  /// ways: the same pairs (ties are improbable) and the same total; on an integer matrix full
  /// of ties, the same optimal total and a valid assignment.
  @Test func matchesScipy() throws {
    let cases = try #require(try DetectTrainFixture.load("detect_hungarian.json") as? [[String: Any]])
    #expect(cases.count == 12)
    for c in cases {
      let (rows, cols) = (c["rows"] as! Int, c["cols"] as! Int)
      let cost = DetectTrainFixture.floats(c["cost"]).map(Double.init)
      let pairs = LinearAssignment.solve(cost: cost, rows: rows, cols: cols)
      let total = pairs.reduce(0.0) { $0 + cost[$1.row * cols + $1.column] }
      #expect(abs(total - (c["total"] as! Double)) < 1e-9, "\(rows)×\(cols)")
      #expect(pairs.count == min(rows, cols))
      #expect(Set(pairs.map(\.row)).count == pairs.count && Set(pairs.map(\.column)).count == pairs.count)
      if c["ties"] == nil {
        #expect(pairs.map(\.row) == DetectTrainFixture.integers(c["row_ind"]), "\(rows)×\(cols)")
        #expect(pairs.map(\.column) == DetectTrainFixture.integers(c["col_ind"]), "\(rows)×\(cols)")
      }
    }
  }

  /// Empty sides give no pairs; a matrix with one column picks its cheapest row.
  @Test func degenerateShapes() {
    #expect(LinearAssignment.solve(cost: [], rows: 0, cols: 4).isEmpty)
    #expect(LinearAssignment.solve(cost: [], rows: 3, cols: 0).isEmpty)
    let pairs = LinearAssignment.solve(cost: [3, 1, 2], rows: 3, cols: 1)
    #expect(pairs.count == 1 && pairs[0].row == 1 && pairs[0].column == 0)
  }
}
