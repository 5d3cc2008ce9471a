import CVAKernels
/// 2-D convolution on `[N, C, H, W]` by im2col + `sgemm`, forward and backward, with the naive
/// direct-loop reference kept beside it (the tests compare the two).

/// Geometry of one convolution (or pooling) window sweep.
public struct Conv2DGeometry: Equatable, Sendable {
  /// Window extent `(kh, kw)`.
  public var kernel: (h: Int, w: Int)
  /// Step between window positions.
  public var stride: (h: Int, w: Int)
  /// Implicit zeros (or -inf for max pooling) on each side.
  public var padding: (h: Int, w: Int)
  /// Spacing between window taps (1 = dense).
  public var dilation: (h: Int, w: Int)

  /// Creates a geometry; every component must be positive (padding non-negative).
  public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
    precondition(
      kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
      "kernel \(kernel), stride \(stride) and dilation \(dilation) must be positive")
    precondition(padding.0 >= 0 && padding.1 >= 0, "padding \(padding) must be non-negative")
    self.kernel = (kernel.0, kernel.1)
    self.stride = (stride.0, stride.1)
    self.padding = (padding.0, padding.1)
    self.dilation = (dilation.0, dilation.1)
  }

  /// Output extent along one axis: `⌊(in + 2p − d(k − 1) − 1) / s⌋ + 1` (as PyTorch).
  public static func outputExtent(_ input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
    (input + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
  }

  /// Output `(height, width)` for an input of `(height, width)`.
  public func outputSize(_ h: Int, _ w: Int) -> (h: Int, w: Int) {
    (
      Self.outputExtent(h, kernel: kernel.h, stride: stride.h, padding: padding.h, dilation: dilation.h),
      Self.outputExtent(w, kernel: kernel.w, stride: stride.w, padding: padding.w, dilation: dilation.w)
    )
  }

  /// Component-wise equality (tuples cannot synthesise `Equatable`).
  public static func == (a: Self, b: Self) -> Bool {
    a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
  }
}

/// The output columns `xo` of one kernel tap whose input column `xo·stride − padding + offset`
/// falls inside `0..<width`: the rest read the zero padding.
@inline(__always) private func validColumns(_ ow: Int, stride: Int, start: Int, width: Int) -> Range<Int> {
  // xo·stride + start >= 0  and  xo·stride + start < width
  let low = start >= 0 ? 0 : (-start + stride - 1) / stride
  let high = width - start <= 0 ? 0 : min(ow, (width - start + stride - 1) / stride)
  return low..<max(low, high)
}

/// Unfolds one image's channels `[C, H, W]` into columns `[C·kh·kw, oh·ow]` (zeros in the padding).
/// Each output row is a run of input pixels: stride-1 runs are copied as blocks.
func im2col(
  _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, _ g: Conv2DGeometry,
  _ out: UnsafeMutablePointer<Float>
) {
  let (oh, ow) = g.outputSize(height, width)
  var row = 0
  for c in 0..<channels {
    for ki in 0..<g.kernel.h {
      for kj in 0..<g.kernel.w {
        let dst = out + row * oh * ow
        let start = kj * g.dilation.w - g.padding.w
        let valid = validColumns(ow, stride: g.stride.w, start: start, width: width)
        for y in 0..<oh {
          let iy = y * g.stride.h - g.padding.h + ki * g.dilation.h
          let line = dst + y * ow
          guard iy >= 0 && iy < height, !valid.isEmpty else {
            line.update(repeating: 0, count: ow)
            continue
          }
          line.update(repeating: 0, count: valid.lowerBound)
          let src = x + (c * height + iy) * width + start
          if g.stride.w == 1 {
            (line + valid.lowerBound).update(from: src + valid.lowerBound, count: valid.count)
          } else {
            for xo in valid { line[xo] = src[xo * g.stride.w] }
          }
          (line + valid.upperBound).update(repeating: 0, count: ow - valid.upperBound)
        }
        row += 1
      }
    }
  }
}

/// The adjoint of `im2col`: scatter-adds columns back into `[C, H, W]` (overlaps accumulate).
func col2im(
  _ cols: UnsafePointer<Float>, channels: Int, height: Int, width: Int, _ g: Conv2DGeometry,
  _ dx: UnsafeMutablePointer<Float>
) {
  let (oh, ow) = g.outputSize(height, width)
  var row = 0
  for c in 0..<channels {
    for ki in 0..<g.kernel.h {
      for kj in 0..<g.kernel.w {
        let src = cols + row * oh * ow
        let start = kj * g.dilation.w - g.padding.w
        let valid = validColumns(ow, stride: g.stride.w, start: start, width: width)
        for y in 0..<oh {
          let iy = y * g.stride.h - g.padding.h + ki * g.dilation.h
          guard iy >= 0 && iy < height else { continue }
          let line = src + y * ow, target = dx + (c * height + iy) * width + start
          for xo in valid { target[xo * g.stride.w] += line[xo] }
        }
        row += 1
      }
    }
  }
}

/// 2-D cross-correlation (as `torch.nn.functional.conv2d`).
///
/// Shapes: `x` is `[N, C_in, H, W]`, `weight` is `[C_out, C_in / groups, kh, kw]`, `bias` is
/// `[C_out]`; the result is `[N, C_out, H_out, W_out]` with `H_out = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1`.
/// Method: per image and group, im2col to `[C_in/g · kh · kw, H_out · W_out]` and one GEMM with the
/// `[C_out/g, C_in/g · kh · kw]` weight. Complexity O(N · C_out · C_in/g · kh · kw · H_out · W_out)
/// time, O(C_in · kh · kw · H_out · W_out) scratch per image (kept for backward when recording).
public func conv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor? = nil,
  stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
) -> Tensor {
  precondition(x.rank == 4 && weight.rank == 4, "conv2d needs x [N, C, H, W] and weight [O, C/g, kh, kw], got \(x.shape), \(weight.shape)")
  let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (cout, cinG, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
  precondition(
    groups > 0 && cin % groups == 0 && cout % groups == 0,
    "groups \(groups) must divide input channels \(cin) and output channels \(cout)")
  precondition(cinG == cin / groups, "weight expects \(cinG) channels per group, input has \(cin)/\(groups) = \(cin / groups)")
  if let bias { precondition(bias.shape == [cout], "conv2d bias \(bias.shape) != [\(cout)]") }
  let geo = Conv2DGeometry(kernel: (kh, kw), stride: stride, padding: padding, dilation: dilation)
  let (oh, ow) = geo.outputSize(h, w)
  precondition(oh > 0 && ow > 0, "conv2d output would be \(oh)x\(ow) for input \(h)x\(w) and kernel \(kh)x\(kw)")
  let coutG = cout / groups, kdim = cinG * kh * kw, spatial = oh * ow
  let record = ([x, weight] + [bias].compactMap { $0 }).contains(where: \.requiresGrad) && GradientMode.isEnabled
  let imageWorkers = min(ComputeThreads.count, n)
  // Columns for every (image, group), kept for the weight gradient, when recording; else one
  // scratch block per worker.
  var columns = [Float](repeating: 0, count: (record ? n * groups : imageWorkers) * kdim * spatial)
  var y = [Float](repeating: 0, count: n * cout * spatial)
  // Images are independent: with a batch, each worker takes whole images (im2col and a
  // single-threaded GEMM each), which keeps both im2col and small GEMMs busy on every core;
  // a single image splits its GEMMs across threads instead.
  x.scalars.withUnsafeBufferPointer { px in
    weight.scalars.withUnsafeBufferPointer { pw in
      columns.withUnsafeMutableBufferPointer { pc in
        y.withUnsafeMutableBufferPointer { py in
          concurrentChunks(imageWorkers) { worker in
            for img in workerRange(worker, of: imageWorkers, count: n) {
              for grp in 0..<groups {
                let col = pc.baseAddress! + (record ? img * groups + grp : worker) * kdim * spatial
                im2col(px.baseAddress! + (img * cin + grp * cinG) * h * w, channels: cinG, height: h, width: w, geo, col)
                // forward: Y[g] (coutG × spatial) = W[g] (coutG × kdim) · cols (kdim × spatial)
                gemm(
                  threaded: imageWorkers == 1, .none, .none, m: coutG, n: spatial, k: kdim,
                  a: pw.baseAddress! + grp * coutG * kdim, lda: kdim, b: col, ldb: spatial, beta: 0,
                  c: py.baseAddress! + (img * cout + grp * coutG) * spatial, ldc: spatial)
              }
              if let bias {
                for o in 0..<cout {
                  let b = bias.scalars[o], base = (img * cout + o) * spatial
                  for s in 0..<spatial { py[base + s] += b }
                }
              }
            }
          }
        }
      }
    }
  }
  let out = Tensor(shape: [n, cout, oh, ow], scalars: y)
  guard record else { return out }
  let wValues = weight.scalars
  let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
  let inputs = [x, weight] + [bias].compactMap { $0 }
  return out.recording(inputs) { g in
    var dx = needX ? [Float](repeating: 0, count: n * cin * h * w) : []
    // Each worker accumulates its own images' weight gradient; the partials are summed after.
    var partialW = [Float](repeating: 0, count: needW ? imageWorkers * wValues.count : 0)
    g.withUnsafeBufferPointer { pg in
      columns.withUnsafeBufferPointer { pc in
        wValues.withUnsafeBufferPointer { pw in
          dx.withUnsafeMutableBufferPointer { pdx in
            partialW.withUnsafeMutableBufferPointer { ppw in
              concurrentChunks(imageWorkers) { worker in
                var dcol = [Float](repeating: 0, count: needX ? kdim * spatial : 0)
                let dwWorker = needW ? ppw.baseAddress! + worker * wValues.count : nil
                for img in workerRange(worker, of: imageWorkers, count: n) {
                  for grp in 0..<groups {
                    let gy = pg.baseAddress! + (img * cout + grp * coutG) * spatial
                    let col = pc.baseAddress! + (img * groups + grp) * kdim * spatial
                    if let dwWorker {
                      // forward: Y = W · cols  ->  dW += dY · colsᵀ
                      gemm(
                        threaded: imageWorkers == 1, .none, .transposed, m: coutG, n: kdim, k: spatial, a: gy, lda: spatial,
                        b: col, ldb: spatial, beta: 1, c: dwWorker + grp * coutG * kdim, ldc: kdim)
                    }
                    if needX {
                      // forward: Y = W · cols  ->  dcols = Wᵀ · dY, then col2im (the adjoint of im2col)
                      dcol.withUnsafeMutableBufferPointer { pdc in
                        gemm(
                          threaded: imageWorkers == 1, .transposed, .none, m: kdim, n: spatial, k: coutG,
                          a: pw.baseAddress! + grp * coutG * kdim, lda: kdim, b: gy, ldb: spatial, beta: 0,
                          c: pdc.baseAddress!, ldc: spatial)
                        col2im(
                          pdc.baseAddress!, channels: cinG, height: h, width: w, geo,
                          pdx.baseAddress! + (img * cin + grp * cinG) * h * w)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    var dw = [Float](repeating: 0, count: needW ? wValues.count : 0)
    if needW {
      for worker in 0..<imageWorkers {
        for i in 0..<wValues.count { dw[i] += partialW[worker * wValues.count + i] }
      }
    }
    var grads: [[Float]?] = [needX ? dx : nil, needW ? dw : nil]
    if bias != nil {
      // forward: y[n, o, :] += b[o]  ->  db[o] = Σ_{n, spatial} dY[n, o, :]
      grads.append(needB ? reduceToShape(g, from: [n, cout, spatial], to: [1, cout, 1]) : nil)
    }
    return grads
  }
}

/// Direct seven-loop convolution in `Double`: the reference the im2col path is checked against.
/// O(N · C_out · C_in/g · kh · kw · H_out · W_out); forward only.
public func conv2dReference(
  _ x: Tensor, weight: Tensor, bias: Tensor? = nil,
  stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
) -> Tensor {
  let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (cout, cinG, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
  let geo = Conv2DGeometry(kernel: (kh, kw), stride: stride, padding: padding, dilation: dilation)
  let (oh, ow) = geo.outputSize(h, w)
  let coutG = cout / groups
  var y = [Float](repeating: 0, count: n * cout * oh * ow)
  for img in 0..<n {
    for o in 0..<cout {
      let grp = o / coutG
      for oy in 0..<oh {
        for ox in 0..<ow {
          var s = Double(bias?.scalars[o] ?? 0)
          for ci in 0..<cinG {
            for ki in 0..<kh {
              for kj in 0..<kw {
                let iy = oy * stride.0 - padding.0 + ki * dilation.0, ix = ox * stride.1 - padding.1 + kj * dilation.1
                guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
                let xv = x.scalars[((img * cin + grp * cinG + ci) * h + iy) * w + ix]
                s += Double(xv) * Double(weight.scalars[((o * cinG + ci) * kh + ki) * kw + kj])
              }
            }
          }
          y[((img * cout + o) * oh + oy) * ow + ox] = Float(s)
        }
      }
    }
  }
  return Tensor(shape: [n, cout, oh, ow], scalars: y)
}

/// `sgemm` across threads, or on the calling thread only (inside a worker that already has
/// its own share of a batch).
private func gemm(
  threaded: Bool, _ transA: MatrixTranspose, _ transB: MatrixTranspose, m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
  c: UnsafeMutablePointer<Float>, ldc: Int
) {
  if threaded {
    sgemm(transA, transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
  } else {
    cva_sgemm(transA == .transposed ? 1 : 0, transB == .transposed ? 1 : 0, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
  }
}
