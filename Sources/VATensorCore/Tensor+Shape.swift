/// Layout ops: reshape (free), permute/transpose (contiguous copies), and their backward.

extension Tensor {
  /// The same elements viewed with a new shape; one extent may be `-1` (inferred).
  ///
  /// O(1): the element buffer is shared copy-on-write, nothing is copied.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var resolved = newShape
    if let hole = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
      precondition(known > 0 && count % known == 0, "cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
      resolved[hole] = count / known
    }
    precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
    let out = Tensor(shape: resolved, scalars: scalars)
    guard shouldRecord(self) else { return out }
    // forward: out = reshape(x)  ->  dx = reshape(g), the same elements in the same order
    return out.recording([self]) { g in [g] }
  }

  /// Collapses all axes into one. O(1).
  public func flattened() -> Tensor { reshaped([count]) }

  /// Reorders axes: result axis `i` is input axis `axes[i]` (as `torch.permute`).
  ///
  /// Returns a contiguous copy, O(n): every kernel here assumes row-major storage.
  public func permuted(_ axes: [Int]) -> Tensor {
    let axes = axes.map(normalizedAxis)
    precondition(axes.sorted() == Array(0..<rank), "permutation \(axes) is not a permutation of 0..<\(rank)")
    if axes == Array(0..<rank) { return reshaped(shape) }
    let outShape = axes.map { shape[$0] }
    let values = permuteValues(scalars, shape: shape, axes: axes)
    let out = Tensor(shape: outShape, scalars: values)
    guard shouldRecord(self) else { return out }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, a) in axes.enumerated() { inverse[a] = i }
    // forward: out = permute(x, axes)  ->  dx = permute(g, axes⁻¹)
    return out.recording([self]) { g in [permuteValues(g, shape: outShape, axes: inverse)] }
  }

  /// Swaps two axes (as `torch.transpose`); a contiguous copy, O(n).
  public func transposed(_ axis0: Int, _ axis1: Int) -> Tensor {
    var axes = Array(0..<rank)
    axes.swapAt(normalizedAxis(axis0), normalizedAxis(axis1))
    return permuted(axes)
  }

  /// Inserts an axis of extent 1 at `axis` (O(1)).
  public func unsqueezed(_ axis: Int) -> Tensor {
    let a = axis < 0 ? axis + rank + 1 : axis
    precondition(a >= 0 && a <= rank, "unsqueeze axis \(axis) out of range for rank \(rank)")
    var s = shape
    s.insert(1, at: a)
    return reshaped(s)
  }

  /// Removes an axis of extent 1 (O(1)).
  public func squeezed(_ axis: Int) -> Tensor {
    let a = normalizedAxis(axis)
    precondition(shape[a] == 1, "cannot squeeze axis \(axis) of extent \(shape[a]) (shape \(shape))")
    var s = shape
    s.remove(at: a)
    return reshaped(s)
  }

  /// Repeats along broadcast axes to reach `target` (as `torch.expand(...).contiguous()`);
  /// backward sums over the repeated axes. O(output size).
  public func broadcast(to target: [Int]) -> Tensor {
    precondition(broadcastShapes(shape, target) == target, "cannot broadcast \(shape) to \(target)")
    return self + Tensor.zeros(target)
  }
}

/// Copies `values` (row-major, `shape`) into the layout permuted by `axes`.
/// The innermost output axis is walked by a plain strided loop; outer axes use the odometer.
func permuteValues(_ values: [Float], shape: [Int], axes: [Int]) -> [Float] {
  let inStrides = contiguousStrides(shape)
  let outShape = axes.map { shape[$0] }
  let src = axes.map { inStrides[$0] }
  let n = values.count
  guard n > 0 else { return [] }
  let inner = outShape.last!, innerStride = src.last!
  let outer = Array(outShape.dropLast()), outerStrides = Array(src.dropLast())
  return values.withUnsafeBufferPointer { p in
    makeBuffer(n) { out in
      forEachIndex(outer, outerStrides, outerStrides) { row, offset, _ in
        let base = row * inner
        if innerStride == 1 {
          // A contiguous run (attention's head split moves rows of head-dimension floats).
          (out.baseAddress! + base).update(from: p.baseAddress! + offset, count: inner)
        } else {
          for j in 0..<inner { out[base + j] = p[offset + j * innerStride] }
        }
      }
    }
  }
}
