/// The rectangular linear assignment problem, as `scipy.optimize.linear_sum_assignment` solves it.
///
/// Given a cost matrix `rows × cols`, picks `min(rows, cols)` cells, at most one per row and one
/// per column, with the smallest total cost. Solved by shortest augmenting paths with dual
/// potentials (Kuhn 1955, "The Hungarian method for the assignment problem"; the O(n²m) form of
/// Jonker & Volgenant 1987 that scipy's LAPJV-derived solver, Crouse 2016, also follows): one
/// Dijkstra-like pass per row over the columns with reduced costs `c(i, j) − u(i) − v(j) ≥ 0`.
/// A matrix with more rows than columns is solved transposed.
///
/// The result lists `(row, column)` pairs sorted by row, as scipy returns `row_ind, col_ind`.
/// With ties, any optimal assignment may come back (scipy's may differ; the total does not).
/// Complexity: O(k² · l) for `k = min(rows, cols)`, `l = max(rows, cols)`; O(k + l) memory.
public enum LinearAssignment {
  /// The optimal `(row, column)` pairs of a row-major `rows × cols` cost matrix.
  ///
  /// - Precondition: `cost.count == rows * cols`, every cost finite.
  public static func solve(cost: [Double], rows: Int, cols: Int) -> [(row: Int, column: Int)] {
    precondition(rows >= 0 && cols >= 0 && cost.count == rows * cols, "cost has \(cost.count) entries for \(rows)×\(cols)")
    precondition(cost.allSatisfy(\.isFinite), "linear assignment needs finite costs")
    if rows == 0 || cols == 0 { return [] }
    if rows > cols {
      var transposed = [Double](repeating: 0, count: cost.count)
      for i in 0..<rows { for j in 0..<cols { transposed[j * rows + i] = cost[i * cols + j] } }
      return solve(cost: transposed, rows: cols, cols: rows).map { (row: $0.column, column: $0.row) }.sorted { $0.row < $1.row }
    }
    // 1-based arrays as in the classic formulation: column 0 is a virtual column holding the row
    // being inserted; p[j] is the row assigned to column j (0 = none).
    let n = rows, m = cols
    var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
    var p = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
    for i in 1...n {
      p[0] = i
      var j0 = 0
      var minv = [Double](repeating: .infinity, count: m + 1)
      var used = [Bool](repeating: false, count: m + 1)
      repeat {
        used[j0] = true
        let i0 = p[j0]
        var delta = Double.infinity, j1 = 0
        for j in 1...m where !used[j] {
          let reduced = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j]
          if reduced < minv[j] {
            minv[j] = reduced
            way[j] = j0
          }
          if minv[j] < delta {
            delta = minv[j]
            j1 = j
          }
        }
        // Raise the tree's potentials by delta so the cheapest edge out of it becomes tight.
        for j in 0...m {
          if used[j] {
            u[p[j]] += delta
            v[j] -= delta
          } else {
            minv[j] -= delta
          }
        }
        j0 = j1
      } while p[j0] != 0
      // Flip the augmenting path back to the virtual column.
      repeat {
        let j1 = way[j0]
        p[j0] = p[j1]
        j0 = j1
      } while j0 != 0
    }
    var pairs: [(row: Int, column: Int)] = []
    for j in 1...m where p[j] != 0 { pairs.append((row: p[j] - 1, column: j - 1)) }
    return pairs.sorted { $0.row < $1.row }
  }
}
