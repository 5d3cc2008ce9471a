/// Element-wise binary arithmetic with NumPy broadcasting: `+ - * /`, forward and backward.

/// Which binary operation a broadcasting kernel applies; an enum keeps one loop per case.
enum BinaryOp { case add, sub, mul, div }

@inline(__always) private func apply(_ op: BinaryOp, _ x: Float, _ y: Float) -> Float {
  switch op {
  case .add: return x + y
  case .sub: return x - y
  case .mul: return x * y
  case .div: return x / y
  }
}

/// Broadcasting forward kernel. Fast paths: equal shapes, and `b` a trailing block of `a`
/// (bias or scale added along rows); everything else goes through the odometer.
func broadcastBinary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> (shape: [Int], values: [Float]) {
  let shape = a.shape == b.shape ? a.shape : broadcastShapes(a.shape, b.shape)
  let n = shape.reduce(1, *)
  let values = a.scalars.withUnsafeBufferPointer { pa in
    b.scalars.withUnsafeBufferPointer { pb in
      makeBuffer(n) { out in
        // The two fast paths split their elements across cores (residual adds and bias
        // broadcasts run over every activation of a training step).
        if a.shape == b.shape {
          forEachElementChunk(n) { range in
            switch op {
            case .add: for i in range { out[i] = pa[i] + pb[i] }
            case .sub: for i in range { out[i] = pa[i] - pb[i] }
            case .mul: for i in range { out[i] = pa[i] * pb[i] }
            case .div: for i in range { out[i] = pa[i] / pb[i] }
            }
          }
        } else if shape == a.shape, pb.count > 0, b.shape.count <= a.shape.count,
          Array(a.shape.suffix(b.shape.count)) == b.shape
        {
          let inner = pb.count
          forEachElementChunk(n / inner, minimumChunk: Swift.max(1, (1 << 16) / inner)) { rows in
            for row in rows {
              let i = row * inner
              switch op {
              case .add: for j in 0..<inner { out[i + j] = pa[i + j] + pb[j] }
              case .sub: for j in 0..<inner { out[i + j] = pa[i + j] - pb[j] }
              case .mul: for j in 0..<inner { out[i + j] = pa[i + j] * pb[j] }
              case .div: for j in 0..<inner { out[i + j] = pa[i + j] / pb[j] }
              }
            }
          }
        } else {
          let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
          forEachIndex(shape, sa, sb) { i, oa, ob in out[i] = apply(op, pa[oa], pb[ob]) }
        }
      }
    }
  }
  return (shape, values)
}

/// Records the backward of `out = a op b`. Gradients are formed at the broadcast shape and then
/// summed back to each input's shape.
private func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
  let (shape, values) = broadcastBinary(op, a, b)
  let out = Tensor(shape: shape, scalars: values)
  guard shouldRecord(a, b) else { return out }
  return out.recording([a, b]) { g in
    let gt = Tensor(shape: shape, scalars: g)
    var ga: [Float]? = nil, gb: [Float]? = nil
    switch op {
    case .add:
      // forward: out = a + b  ->  da = g, db = g
      if a.requiresGrad { ga = g }
      if b.requiresGrad { gb = g }
    case .sub:
      // forward: out = a - b  ->  da = g, db = -g
      if a.requiresGrad { ga = g }
      if b.requiresGrad { gb = g.map { -$0 } }
    case .mul:
      // forward: out = a * b  ->  da = g * b, db = g * a
      if a.requiresGrad { ga = broadcastBinary(.mul, gt, b).values }
      if b.requiresGrad { gb = broadcastBinary(.mul, gt, a).values }
    case .div:
      // forward: out = a / b  ->  da = g / b, db = -g * a / b² = -g * out / b
      if a.requiresGrad { ga = broadcastBinary(.div, gt, b).values }
      if b.requiresGrad {
        let gOut = broadcastBinary(.mul, gt, Tensor(shape: shape, scalars: values)).values
        gb = broadcastBinary(.div, Tensor(shape: shape, scalars: gOut), b).values.map { -$0 }
      }
    }
    return [
      ga.map { reduceToShape($0, from: shape, to: a.shape) },
      gb.map { reduceToShape($0, from: shape, to: b.shape) },
    ]
  }
}

extension Tensor {
  /// Element-wise sum with broadcasting. O(n) in the output size.
  public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b) }
  /// Element-wise difference with broadcasting.
  public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b) }
  /// Element-wise product with broadcasting.
  public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b) }
  /// Element-wise quotient with broadcasting.
  public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.div, a, b) }

  /// Adds a constant.
  public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
  /// Subtracts a constant.
  public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
  /// Multiplies by a constant.
  public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
  /// Multiplies by a constant.
  public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
  /// Divides by a constant.
  public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
  /// Negation.
  public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

  /// `scale * self + shift`, element-wise, in one pass.
  public func affine(scale: Float, shift: Float) -> Tensor {
    let n = count
    let values = scalars.withUnsafeBufferPointer { p in
      makeBuffer(n) { out in
        forEachElementChunk(n) { range in for i in range { out[i] = scale * p[i] + shift } }
      }
    }
    let out = Tensor(shape: shape, scalars: values)
    guard shouldRecord(self) else { return out }
    // forward: out = scale * x + shift  ->  dx = scale * g
    return out.recording([self]) { g in
      [
        g.withUnsafeBufferPointer { pg in
          makeBuffer(n) { dx in forEachElementChunk(n) { range in for i in range { dx[i] = scale * pg[i] } } }
        }
      ]
    }
  }
}
