/// NumPy broadcasting helpers shared by element-wise ops, reductions and matmul batch dims.

/// The broadcast shape of `a` and `b` (NumPy rules: align trailing axes; extents equal or 1).
public func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int] {
  let rank = max(a.count, b.count)
  var out = [Int](repeating: 1, count: rank)
  for i in 0..<rank {
    let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
    let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
    precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast (axis \(i): \(x) vs \(y))")
    out[i] = x == 1 ? y : x
  }
  return out
}

/// Strides for reading a tensor of `shape` as if it had the broadcast shape `target`:
/// the contiguous stride on matching axes, 0 on broadcast (extent-1 or missing) axes.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
  let own = contiguousStrides(shape)
  let pad = target.count - shape.count
  return (0..<target.count).map { i in
    i < pad || shape[i - pad] == 1 ? 0 : own[i - pad]
  }
}

/// Calls `body(linear, offsetA, offsetB)` for every element of `shape` in row-major order,
/// with offsets advanced by `stridesA`/`stridesB` (an odometer; the general slow path).
@inline(__always) func forEachIndex(
  _ shape: [Int], _ stridesA: [Int], _ stridesB: [Int], _ body: (Int, Int, Int) -> Void
) {
  let n = shape.reduce(1, *)
  if n == 0 { return }
  let rank = shape.count
  var index = [Int](repeating: 0, count: rank)
  var oa = 0, ob = 0
  for linear in 0..<n {
    body(linear, oa, ob)
    var axis = rank - 1
    while axis >= 0 {
      index[axis] += 1
      oa += stridesA[axis]
      ob += stridesB[axis]
      if index[axis] < shape[axis] { break }
      oa -= stridesA[axis] * shape[axis]
      ob -= stridesB[axis] * shape[axis]
      index[axis] = 0
      axis -= 1
    }
  }
}

/// Sums a gradient of the broadcast shape `from` back down to `shape` (the adjoint of broadcasting).
func reduceToShape(_ g: [Float], from: [Int], to shape: [Int]) -> [Float] {
  if from == shape { return g }
  let count = shape.reduce(1, *)
  var out = [Float](repeating: 0, count: count)
  // Fast path: `shape` is a trailing block of `from` (bias-like), so output index = linear % count.
  if shape.count <= from.count, Array(from.suffix(shape.count)) == shape, count > 0 {
    // Rows split across workers, each summing into its own partial (a bias gradient sums
    // every token of a training batch); the partials are added in worker order.
    let rows = g.count / count
    let workers = Swift.max(1, Swift.min(ComputeThreads.count, g.count / (1 << 16)))
    var partials = [Float](repeating: 0, count: workers * count)
    g.withUnsafeBufferPointer { pg in
      partials.withUnsafeMutableBufferPointer { pp in
        concurrentChunks(workers) { worker in
          let po = pp.baseAddress! + worker * count
          for row in workerRange(worker, of: workers, count: rows) {
            let pr = pg.baseAddress! + row * count
            for j in 0..<count { po[j] += pr[j] }
          }
        }
      }
    }
    for worker in 0..<workers {
      for j in 0..<count { out[j] += partials[worker * count + j] }
    }
    return out
  }
  // Fast path: reducing trailing axes (e.g. a row sum, kept shape [..., 1, 1]), each output
  // element is the sum of one contiguous block.
  if shape.count == from.count, count > 0,
    let split = (0...shape.count).first(where: { i in shape[i...].allSatisfy { $0 == 1 } }),
    Array(shape[..<split]) == Array(from[..<split])
  {
    let inner = from[split...].reduce(1, *)
    g.withUnsafeBufferPointer { pg in
      out.withUnsafeMutableBufferPointer { po in
        for i in 0..<count {
          var s: Float = 0
          for j in 0..<inner { s += pg[i * inner + j] }
          po[i] = s
        }
      }
    }
    return out
  }
  let strides = broadcastStrides(shape, to: from)
  g.withUnsafeBufferPointer { pg in
    out.withUnsafeMutableBufferPointer { po in
      forEachIndex(from, strides, strides) { linear, o, _ in po[o] += pg[linear] }
    }
  }
  return out
}
