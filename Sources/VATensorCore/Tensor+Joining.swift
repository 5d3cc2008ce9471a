/// Concatenation, slicing, splitting and gathering along one axis, forward and backward.

/// Sizes around `axis`: `outer` rows of `extent · inner` contiguous elements each.
private func blockSizes(_ shape: [Int], _ axis: Int) -> (outer: Int, inner: Int) {
  (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
}

/// Joins tensors along `axis`; all other extents must match (as `torch.cat`). O(total size).
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
  precondition(!tensors.isEmpty, "concat needs at least one tensor")
  let first = tensors[0]
  let ax = first.normalizedAxis(axis)
  for t in tensors {
    precondition(
      t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == ax || $0.element == first.shape[$0.offset] },
      "concat along axis \(axis): shape \(t.shape) does not match \(first.shape)")
  }
  let extents = tensors.map { $0.shape[ax] }
  let total = extents.reduce(0, +)
  var outShape = first.shape
  outShape[ax] = total
  let (outer, inner) = blockSizes(first.shape, ax)
  var values = [Float](repeating: 0, count: outer * total * inner)
  values.withUnsafeMutableBufferPointer { out in
    var offset = 0
    for t in tensors {
      let chunk = t.shape[ax] * inner
      t.scalars.withUnsafeBufferPointer { p in
        for o in 0..<outer {
          let dst = o * total * inner + offset, srcBase = o * chunk
          for j in 0..<chunk { out[dst + j] = p[srcBase + j] }
        }
      }
      offset += chunk
    }
  }
  let out = Tensor(shape: outShape, scalars: values)
  guard tensors.contains(where: \.requiresGrad) && GradientMode.isEnabled else { return out }
  let needs = tensors.map(\.requiresGrad)
  // forward: out = [x₀ | x₁ | …] along axis  ->  dxᵢ = g[..., offsetᵢ ..< offsetᵢ + extentᵢ, ...]
  return out.recording(tensors) { g in
    var offset = 0
    return extents.enumerated().map { i, e in
      defer { offset += e }
      return needs[i] ? sliceValues(g, outer: outer, extent: total, inner: inner, range: offset..<(offset + e)) : nil
    }
  }
}

/// Copies `range` along the middle axis of an `[outer, extent, inner]` block.
private func sliceValues(_ values: [Float], outer: Int, extent: Int, inner: Int, range: Range<Int>) -> [Float] {
  let chunk = range.count * inner
  return values.withUnsafeBufferPointer { p in
    makeBuffer(outer * chunk) { out in
      guard chunk > 0 else { return }  // an empty slice: no buffer to copy into
      for o in 0..<outer {
        let src = (o * extent + range.lowerBound) * inner
        (out.baseAddress! + o * chunk).update(from: p.baseAddress! + src, count: chunk)
      }
    }
  }
}

extension Tensor {
  /// The sub-tensor at `range` along `axis` (as `x.narrow(axis, start, length)`), a copy, O(result).
  public func sliced(axis: Int, range: Range<Int>) -> Tensor {
    let ax = normalizedAxis(axis)
    precondition(
      range.lowerBound >= 0 && range.upperBound <= shape[ax],
      "slice \(range) out of bounds 0..<\(shape[ax]) on axis \(axis) of \(shape)")
    let (outer, inner) = blockSizes(shape, ax)
    var outShape = shape
    outShape[ax] = range.count
    let out = Tensor(shape: outShape, scalars: sliceValues(scalars, outer: outer, extent: shape[ax], inner: inner, range: range))
    guard shouldRecord(self) else { return out }
    let extent = shape[ax], total = count
    // forward: out = x[..., range, ...]  ->  dx = zeros with g scattered into range
    return out.recording([self]) { g in
      var dx = [Float](repeating: 0, count: total)
      let chunk = range.count * inner
      guard chunk > 0 else { return [dx] }
      g.withUnsafeBufferPointer { pg in
        dx.withUnsafeMutableBufferPointer { pdx in
          for o in 0..<outer {
            (pdx.baseAddress! + (o * extent + range.lowerBound) * inner).update(from: pg.baseAddress! + o * chunk, count: chunk)
          }
        }
      }
      return [dx]
    }
  }

  /// Splits along `axis` into consecutive pieces of the given extents (as `torch.split`).
  public func split(sizes: [Int], axis: Int) -> [Tensor] {
    let ax = normalizedAxis(axis)
    precondition(sizes.reduce(0, +) == shape[ax], "split sizes \(sizes) do not sum to extent \(shape[ax]) of axis \(axis)")
    var start = 0
    return sizes.map { s in
      defer { start += s }
      return sliced(axis: ax, range: start..<(start + s))
    }
  }

  /// Splits along `axis` into `count` equal pieces (as `torch.chunk` with an exact division).
  public func chunked(_ count: Int, axis: Int) -> [Tensor] {
    let ax = normalizedAxis(axis)
    precondition(count > 0 && shape[ax] % count == 0, "cannot chunk extent \(shape[ax]) into \(count) equal parts")
    return split(sizes: [Int](repeating: shape[ax] / count, count: count), axis: ax)
  }

  /// Selects `indices` along `axis` (as `torch.index_select`); repeats allowed.
  /// Backward scatter-adds, so a repeated index receives the sum of its gradients. O(result).
  public func gathered(indices: [Int], axis: Int) -> Tensor {
    let ax = normalizedAxis(axis)
    let extent = shape[ax]
    for i in indices { precondition(i >= 0 && i < extent, "gather index \(i) out of range 0..<\(extent) on axis \(axis)") }
    let (outer, inner) = blockSizes(shape, ax)
    var outShape = shape
    outShape[ax] = indices.count
    let values = scalars.withUnsafeBufferPointer { p in
      makeBuffer(outer * indices.count * inner) { out in
        for o in 0..<outer {
          for (r, idx) in indices.enumerated() {
            let src = (o * extent + idx) * inner, dst = (o * indices.count + r) * inner
            for j in 0..<inner { out[dst + j] = p[src + j] }
          }
        }
      }
    }
    let out = Tensor(shape: outShape, scalars: values)
    guard shouldRecord(self) else { return out }
    let total = count
    // forward: out[..., r, ...] = x[..., indices[r], ...]  ->  dx[..., indices[r], ...] += g[..., r, ...]
    return out.recording([self]) { g in
      var dx = [Float](repeating: 0, count: total)
      for o in 0..<outer {
        for (r, idx) in indices.enumerated() {
          let dst = (o * extent + idx) * inner, src = (o * indices.count + r) * inner
          for j in 0..<inner { dx[dst + j] += g[src + j] }
        }
      }
      return [dx]
    }
  }
}
