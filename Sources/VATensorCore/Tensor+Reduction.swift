/// Reductions over axes: sum, mean and max, with `keepDims`, forward and backward.

/// Shapes for reducing `shape` over `axes`: the kept-dims shape and the final shape.
private func reducedShapes(_ shape: [Int], _ axes: Set<Int>, keepDims: Bool) -> (kept: [Int], out: [Int]) {
  let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
  let out = keepDims ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
  return (kept, out)
}

extension Tensor {
  /// Axes normalised and deduplicated; `nil` means all axes.
  private func axisSet(_ axes: [Int]?) -> Set<Int> {
    Set((axes ?? Array(0..<rank)).map(normalizedAxis))
  }

  /// Sum over `axes` (all axes when `nil`), accumulated in `Float` per output element.
  ///
  /// Shapes: reduced axes become 1 when `keepDims`, else are removed. O(n).
  public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let set = axisSet(axes)
    let (kept, outShape) = reducedShapes(shape, set, keepDims: keepDims)
    let values = reduceToShape(scalars, from: shape, to: kept)
    let out = Tensor(shape: outShape, scalars: values)
    guard shouldRecord(self) else { return out }
    let inShape = shape
    // forward: out = Σ_axes x  ->  dx = broadcast(g) back over the reduced axes
    return out.recording([self]) { g in
      [broadcastBinary(.add, Tensor.zeros(inShape), Tensor(shape: kept, scalars: g)).values]
    }
  }

  /// Sum over one axis.
  public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

  /// Mean over `axes` (all axes when `nil`). O(n).
  public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let set = axisSet(axes)
    let n = set.map { shape[$0] }.reduce(1, *)
    // forward: mean = sum / n, so the backward is sum's scaled by 1/n (via affine).
    return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
  }

  /// Mean over one axis.
  public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

  /// Maximum over one axis; the gradient flows to the first maximal element (as `torch.max(dim)`).
  /// O(n).
  public func max(axis: Int, keepDims: Bool = false) -> Tensor {
    let ax = normalizedAxis(axis)
    precondition(shape[ax] > 0, "max over empty axis \(axis) of \(shape)")
    let outer = shape[..<ax].reduce(1, *), extent = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
    let (_, outShape) = reducedShapes(shape, [ax], keepDims: keepDims)
    var argmax = [Int](repeating: 0, count: outer * inner)
    let values = scalars.withUnsafeBufferPointer { p in
      makeBuffer(outer * inner) { out in
        for o in 0..<outer {
          for j in 0..<inner {
            var best = p[o * extent * inner + j], bestIndex = 0
            for e in 1..<extent where p[(o * extent + e) * inner + j] > best {
              best = p[(o * extent + e) * inner + j]
              bestIndex = e
            }
            out[o * inner + j] = best
            argmax[o * inner + j] = (o * extent + bestIndex) * inner + j
          }
        }
      }
    }
    let out = Tensor(shape: outShape, scalars: values)
    guard shouldRecord(self) else { return out }
    let total = count
    // forward: out = x[argmax]  ->  dx[argmax] = g, zero elsewhere
    return out.recording([self]) { g in
      var dx = [Float](repeating: 0, count: total)
      for (i, src) in argmax.enumerated() { dx[src] += g[i] }
      return [dx]
    }
  }
}
