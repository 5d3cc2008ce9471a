/// Max and average pooling over `[N, C, H, W]`, forward and backward.

/// Max pooling (as `torch.nn.functional.max_pool2d`); padding counts as `-inf`, so it never wins.
///
/// Shapes: `x` is `[N, C, H, W]`; the result is `[N, C, H_out, W_out]` with the convolution
/// formula. `stride` defaults to the kernel size. The gradient goes to the first maximal element
/// of each window. O(N · C · H_out · W_out · kh · kw).
public func maxPool2d(
  _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
  dilation: (Int, Int) = (1, 1)
) -> Tensor {
  precondition(x.rank == 4, "maxPool2d needs [N, C, H, W], got \(x.shape)")
  let geo = Conv2DGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation)
  precondition(padding.0 * 2 <= kernel.0 && padding.1 * 2 <= kernel.1, "padding \(padding) must be at most half the kernel \(kernel) (as PyTorch)")
  let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
  let (oh, ow) = geo.outputSize(h, w)
  precondition(oh > 0 && ow > 0, "maxPool2d output would be \(oh)x\(ow) for input \(h)x\(w)")
  var argmax = [Int](repeating: 0, count: planes * oh * ow)
  // Planes split across threads (each writes only its own outputs); pointers, not arrays, in
  // the window loop, which a training step of patch-detect's ResNet otherwise spent 5% in.
  let values = x.scalars.withUnsafeBufferPointer { p in
    argmax.withUnsafeMutableBufferPointer { pa in
      makeBuffer(planes * oh * ow) { out in
        let (input, winners, output) = (p.baseAddress!, pa.baseAddress!, out.baseAddress!)
        forEachElementChunk(planes, minimumChunk: Swift.max(1, (1 << 14) / Swift.max(1, oh * ow * geo.kernel.h * geo.kernel.w))) {
          planeRange in
          for plane in planeRange {
            for oy in 0..<oh {
              for ox in 0..<ow {
                var best = -Float.infinity, bestIndex = -1
                for ki in 0..<geo.kernel.h {
                  let iy = oy * geo.stride.h - geo.padding.h + ki * geo.dilation.h
                  guard iy >= 0 && iy < h else { continue }
                  for kj in 0..<geo.kernel.w {
                    let ix = ox * geo.stride.w - geo.padding.w + kj * geo.dilation.w
                    guard ix >= 0 && ix < w else { continue }
                    let idx = (plane * h + iy) * w + ix
                    if bestIndex < 0 || input[idx] > best { (best, bestIndex) = (input[idx], idx) }
                  }
                }
                let o = (plane * oh + oy) * ow + ox
                output[o] = best
                winners[o] = bestIndex
              }
            }
          }
        }
      }
    }
  }
  let out = Tensor(shape: [x.shape[0], x.shape[1], oh, ow], scalars: values)
  guard shouldRecord(x) else { return out }
  let total = x.count
  // forward: y[o] = x[argmax[o]]  ->  dx[argmax[o]] += g[o]
  return out.recording([x]) { g in
    var dx = [Float](repeating: 0, count: total)
    for (o, i) in argmax.enumerated() where i >= 0 { dx[i] += g[o] }
    return [dx]
  }
}

/// Average pooling (as `torch.nn.functional.avg_pool2d` with `count_include_pad=True`):
/// every window divides by `kh · kw`, padding counting as zeros.
///
/// Shapes as `maxPool2d`; `stride` defaults to the kernel size. O(N · C · H_out · W_out · kh · kw).
public func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
  precondition(x.rank == 4, "avgPool2d needs [N, C, H, W], got \(x.shape)")
  let geo = Conv2DGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
  let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
  let (oh, ow) = geo.outputSize(h, w)
  precondition(oh > 0 && ow > 0, "avgPool2d output would be \(oh)x\(ow) for input \(h)x\(w)")
  let scale = 1 / Float(kernel.0 * kernel.1)
  /// Calls `body(inputIndex, outputIndex)` for every (window element, window) pair inside the image.
  func forEachTap(_ body: (Int, Int) -> Void) {
    for plane in 0..<planes {
      for oy in 0..<oh {
        for ox in 0..<ow {
          let o = (plane * oh + oy) * ow + ox
          for ki in 0..<kernel.0 {
            let iy = oy * geo.stride.h - padding.0 + ki
            guard iy >= 0 && iy < h else { continue }
            for kj in 0..<kernel.1 {
              let ix = ox * geo.stride.w - padding.1 + kj
              if ix >= 0 && ix < w { body((plane * h + iy) * w + ix, o) }
            }
          }
        }
      }
    }
  }
  var values = [Float](repeating: 0, count: planes * oh * ow)
  x.scalars.withUnsafeBufferPointer { p in forEachTap { i, o in values[o] += p[i] * scale } }
  let out = Tensor(shape: [x.shape[0], x.shape[1], oh, ow], scalars: values)
  guard shouldRecord(x) else { return out }
  let total = x.count
  // forward: y[o] = Σ_window x[i] / (kh · kw)  ->  dx[i] += g[o] / (kh · kw)
  return out.recording([x]) { g in
    var dx = [Float](repeating: 0, count: total)
    forEachTap { i, o in dx[i] += g[o] * scale }
    return [dx]
  }
}
