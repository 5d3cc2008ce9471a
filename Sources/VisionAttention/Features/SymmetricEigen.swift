/// Eigenvalues and eigenvectors of a real symmetric matrix in double precision: Householder
/// reduction to tridiagonal form, then the implicit QL method (EISPACK's `tred2` and `tql2`, as
/// JAMA's `EigenvalueDecomposition` ports them). What `PatchPCA` diagonalises a covariance with.
///
/// - Complexity: O(n³) time, O(n²) memory.
struct SymmetricEigen {
  /// Eigenvalues in ascending order.
  let values: [Double]
  /// Row `k` (`vectors[k * n ..< (k + 1) * n]`) is the unit eigenvector of `values[k]`. (The
  /// algorithm works on the transpose of JAMA's `V`, so that its inner loops run along rows.)
  let vectors: [Double]
  /// The matrix's side.
  let n: Int

  /// Diagonalises `matrix`, `n × n` row-major; only its symmetry is assumed (it is read whole).
  init(_ matrix: [Double], n: Int) {
    precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) values for \(n)x\(n)")
    self.n = n
    var v = matrix, d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
    v.withUnsafeMutableBufferPointer { v in
      Self.tridiagonalize(v, &d, &e, n)
      Self.diagonalize(v, &d, &e, n)
    }
    values = d
    vectors = v
  }

  /// `tred2`: Householder reduction of `v` to tridiagonal form, accumulating the transforms
  /// in `v`; `d` gets the diagonal, `e` the subdiagonal (in `e[1...]`).
  private static func tridiagonalize(_ v: UnsafeMutableBufferPointer<Double>, _ d: inout [Double], _ e: inout [Double], _ n: Int) {
    guard n > 0 else { return }
    for j in 0..<n { d[j] = v[j * n + (n - 1)] }
    for i in stride(from: n - 1, to: 0, by: -1) {
      var scale = 0.0, h = 0.0
      for k in 0..<i { scale += abs(d[k]) }
      if scale == 0 {
        e[i] = d[i - 1]
        for j in 0..<i {
          d[j] = v[j * n + (i - 1)]
          v[j * n + i] = 0
          v[i * n + j] = 0
        }
      } else {
        for k in 0..<i {
          d[k] /= scale
          h += d[k] * d[k]
        }
        var f = d[i - 1]
        var g = h.squareRoot()
        if f > 0 { g = -g }
        e[i] = scale * g
        h -= f * g
        d[i - 1] = f - g
        for j in 0..<i { e[j] = 0 }
        for j in 0..<i {
          f = d[j]
          v[i * n + j] = f
          g = e[j] + v[j * n + j] * f
          if j + 1 <= i - 1 {
            for k in (j + 1)...(i - 1) {
              g += v[j * n + k] * d[k]
              e[k] += v[j * n + k] * f
            }
          }
          e[j] = g
        }
        f = 0
        for j in 0..<i {
          e[j] /= h
          f += e[j] * d[j]
        }
        let hh = f / (h + h)
        for j in 0..<i { e[j] -= hh * d[j] }
        for j in 0..<i {
          f = d[j]
          g = e[j]
          for k in j...(i - 1) { v[j * n + k] -= f * e[k] + g * d[k] }
          d[j] = v[j * n + (i - 1)]
          v[j * n + i] = 0
        }
      }
      d[i] = h
    }
    // Accumulate the transformations.
    for i in 0..<(n - 1) {
      v[i * n + (n - 1)] = v[i * n + i]
      v[i * n + i] = 1
      let h = d[i + 1]
      if h != 0 {
        for k in 0...i { d[k] = v[(i + 1) * n + k] / h }
        for j in 0...i {
          var g = 0.0
          for k in 0...i { g += v[(i + 1) * n + k] * v[j * n + k] }
          for k in 0...i { v[j * n + k] -= g * d[k] }
        }
      }
      for k in 0...i { v[(i + 1) * n + k] = 0 }
    }
    for j in 0..<n {
      d[j] = v[j * n + (n - 1)]
      v[j * n + (n - 1)] = 0
    }
    v[(n - 1) * n + (n - 1)] = 1
    e[0] = 0
  }

  /// `tql2`: the implicit QL method on the tridiagonal `d`, `e`, rotating `v`'s columns, then
  /// eigenvalues sorted ascending with their vectors.
  private static func diagonalize(_ v: UnsafeMutableBufferPointer<Double>, _ d: inout [Double], _ e: inout [Double], _ n: Int) {
    guard n > 0 else { return }
    for i in 1..<max(n, 1) { e[i - 1] = e[i] }
    e[n - 1] = 0
    var f = 0.0, tst1 = 0.0
    let eps = Double.ulpOfOne
    for l in 0..<n {
      tst1 = max(tst1, abs(d[l]) + abs(e[l]))
      var m = l
      while m < n {
        if abs(e[m]) <= eps * tst1 { break }
        m += 1
      }
      if m > l {
        repeat {
          var g = d[l]
          var p = (d[l + 1] - g) / (2 * e[l])
          var r = (p * p + 1).squareRoot()
          if p < 0 { r = -r }
          d[l] = e[l] / (p + r)
          d[l + 1] = e[l] * (p + r)
          let dl1 = d[l + 1]
          var h = g - d[l]
          for i in (l + 2)..<max(n, l + 2) { d[i] -= h }
          f += h
          p = d[m]
          var c = 1.0, c2 = c, c3 = c
          let el1 = e[l + 1]
          var s = 0.0, s2 = 0.0
          for i in stride(from: m - 1, through: l, by: -1) {
            c3 = c2
            c2 = c
            s2 = s
            g = c * e[i]
            h = c * p
            r = (p * p + e[i] * e[i]).squareRoot()
            e[i + 1] = s * r
            s = e[i] / r
            c = p / r
            p = c * d[i] - s * g
            d[i + 1] = h + s * (c * g + s * d[i])
            for k in 0..<n {
              h = v[(i + 1) * n + k]
              v[(i + 1) * n + k] = s * v[i * n + k] + c * h
              v[i * n + k] = c * v[i * n + k] - s * h
            }
          }
          p = -s * s2 * c3 * el1 * e[l] / dl1
          e[l] = s * p
          d[l] = c * p
        } while abs(e[l]) > eps * tst1
      }
      d[l] += f
      e[l] = 0
    }
    // Selection sort, ascending, swapping columns with the values.
    for i in 0..<(n - 1) {
      var k = i
      var p = d[i]
      for j in (i + 1)..<n where d[j] < p {
        k = j
        p = d[j]
      }
      if k != i {
        d[k] = d[i]
        d[i] = p
        for j in 0..<n { v.swapAt(i * n + j, k * n + j) }
      }
    }
  }
}
