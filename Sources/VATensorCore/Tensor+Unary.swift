import CVAKernels
import Foundation

/// Element-wise unary ops: exp, log, sqrt, relu, tanh, sigmoid, and GELU (exact and tanh).

/// Applies `f` element-wise and, when recording, a backward `g * df(x, y)` where `y = f(x)`.
@inline(__always) func unary(
  _ x: Tensor, _ f: (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float
) -> Tensor {
  let n = x.count
  let values = x.scalars.withUnsafeBufferPointer { p in
    makeBuffer(n) { out in for i in 0..<n { out[i] = f(p[i]) } }
  }
  let out = Tensor(shape: x.shape, scalars: values)
  guard shouldRecord(x) else { return out }
  let input = x.scalars
  return out.recording([x]) { g in
    [
      makeBuffer(n) { dx in
        input.withUnsafeBufferPointer { px in
          values.withUnsafeBufferPointer { py in
            g.withUnsafeBufferPointer { pg in
              for i in 0..<n { dx[i] = pg[i] * derivative(px[i], py[i]) }
            }
          }
        }
      }
    ]
  }
}

/// Which formula `gelu` uses.
public enum GELUApproximation: Sendable {
  /// `x · Φ(x) = 0.5 x (1 + erf(x / √2))`, as `torch.nn.GELU()`.
  case exact
  /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, as `torch.nn.GELU(approximate="tanh")`.
  case tanh
  /// `x · σ(1.702 x)`, OpenAI CLIP's "quick GELU" (timm's `QuickGELU`, open_clip's
  /// `quick_gelu`, transformers' `quick_gelu`); about 1e-2 away from the exact form.
  case quick
}

/// `√(2/π)`, the tanh-approximation's scale.
private let sqrtTwoOverPi: Float = 0.797_884_560_802_865_4
/// `1/√(2π)`, the standard normal density at 0.
private let invSqrtTwoPi: Float = 0.398_942_280_401_432_7

extension Tensor {
  /// `eˣ` element-wise.
  public func exp() -> Tensor {
    // forward: y = exp(x)  ->  dx = g * y
    unary(self, { Foundation.exp($0) }, derivative: { _, y in y })
  }

  /// Natural logarithm element-wise (`-inf` at 0, NaN below).
  public func log() -> Tensor {
    // forward: y = log(x)  ->  dx = g / x
    unary(self, { Foundation.log($0) }, derivative: { x, _ in 1 / x })
  }

  /// Square root element-wise.
  public func sqrt() -> Tensor {
    // forward: y = sqrt(x)  ->  dx = g / (2 y)
    unary(self, { $0.squareRoot() }, derivative: { _, y in 0.5 / y })
  }

  /// `x²` element-wise.
  public func squared() -> Tensor {
    // forward: y = x * x  ->  dx = 2 x g
    unary(self, { $0 * $0 }, derivative: { x, _ in 2 * x })
  }

  /// Hyperbolic tangent element-wise.
  public func tanh() -> Tensor {
    // forward: y = tanh(x)  ->  dx = g (1 - y²)
    unary(self, { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
  }

  /// Logistic sigmoid `1 / (1 + e⁻ˣ)` element-wise.
  public func sigmoid() -> Tensor {
    // forward: y = 1 / (1 + exp(-x))  ->  dx = g y (1 - y)
    unary(self, { 1 / (1 + Foundation.exp(-$0)) }, derivative: { _, y in y * (1 - y) })
  }
}

/// Rectified linear unit `max(x, 0)`; the gradient at exactly 0 is 0, as PyTorch.
public func relu(_ x: Tensor) -> Tensor {
  // forward: y = max(x, 0)  ->  dx = g if x > 0 else 0
  unary(x, { $0 > 0 ? $0 : 0 }, derivative: { x, _ in x > 0 ? 1 : 0 })
}

/// Leaky ReLU `x if x > 0 else slope · x` (SAGAN's discriminator uses slope 0.1 or 0.2).
public func leakyReLU(_ x: Tensor, negativeSlope: Float = 0.01) -> Tensor {
  // forward: y = x > 0 ? x : slope * x  ->  dx = g * (x > 0 ? 1 : slope)
  unary(x, { $0 > 0 ? $0 : negativeSlope * $0 }, derivative: { x, _ in x > 0 ? 1 : negativeSlope })
}

/// Gaussian error linear unit (Hendrycks & Gimpel 2016), element-wise.
///
/// `.exact` matches `torch.nn.GELU()` (erf form, ViT's choice); `.tanh` matches
/// `torch.nn.GELU(approximate="tanh")`. The forward uses CVAKernels' vectorised erf (exact form) or
/// `fastTanh` (error ≤ 2e-7 absolute on `1 + erf`) and splits large tensors across cores; `geluReference` is the
/// scalar libm version it is tested against. O(n).
public func gelu(_ x: Tensor, approximation: GELUApproximation = .exact) -> Tensor {
  let n = x.count
  let values = x.scalars.withUnsafeBufferPointer { p in
    makeBuffer(n) { out in
      forEachElementChunk(n) { range in
        let src = p.baseAddress! + range.lowerBound, dst = out.baseAddress! + range.lowerBound
        switch approximation {
        case .exact:
          cva_gelu_erf(src, dst, range.count)
        case .tanh:
          mapElements(src, dst, count: range.count) { v in
            0.5 * v * (1 + fastTanh(sqrtTwoOverPi * (v + 0.044715 * v * v * v)))
          }
        case .quick:
          mapElements(src, dst, count: range.count) { v in v / (1 + Foundation.exp(-1.702 * v)) }
        }
      }
    }
  }
  let out = Tensor(shape: x.shape, scalars: values)
  guard shouldRecord(x) else { return out }
  let input = x.scalars
  return out.recording([x]) { g in
    [
      input.withUnsafeBufferPointer { px in
        g.withUnsafeBufferPointer { pg in
          makeBuffer(n) { dx in
            forEachElementChunk(n) { range in
              let offset = range.lowerBound
              switch approximation {
              case .exact:
                cva_gelu_erf_backward(px.baseAddress! + offset, pg.baseAddress! + offset, dx.baseAddress! + offset, range.count)
              case .tanh, .quick:
                for i in range { dx[i] = pg[i] * geluDerivative(px[i], approximation) }
              }
            }
          }
        }
      }
    ]
  }
}

/// `d gelu(x) / dx`, scalar libm (the tanh form's backward; the exact form's runs in CVAKernels).
private func geluDerivative(_ x: Float, _ approximation: GELUApproximation) -> Float {
  switch approximation {
  case .exact:
    // forward: y = 0.5 x (1 + erf(x/√2))  ->  dy/dx = Φ(x) + x φ(x)
    return 0.5 * (1 + Foundation.erf(x * Float(0.5).squareRoot())) + x * invSqrtTwoPi * Foundation.exp(-0.5 * x * x)
  case .tanh:
    // forward: y = 0.5 x (1 + t), t = tanh(u), u = √(2/π)(x + 0.044715 x³)
    // ->  dy/dx = 0.5 (1 + t) + 0.5 x (1 − t²) √(2/π) (1 + 3 · 0.044715 x²)
    let t = Foundation.tanh(sqrtTwoOverPi * (x + 0.044715 * x * x * x))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * sqrtTwoOverPi * (1 + 3 * 0.044715 * x * x)
  case .quick:
    // forward: y = x s, s = σ(1.702 x)  ->  dy/dx = s + 1.702 x s (1 − s)
    let s = 1 / (1 + Foundation.exp(-1.702 * x))
    return s + 1.702 * x * s * (1 - s)
  }
}

/// Scalar libm GELU (`erff`, `tanhf`), forward only: the reference the vectorised `gelu` is checked against.
public func geluReference(_ x: Tensor, approximation: GELUApproximation = .exact) -> Tensor {
  Tensor(
    shape: x.shape,
    scalars: x.scalars.map { v in
      switch approximation {
      case .exact: return 0.5 * v * (1 + Foundation.erf(v * Float(0.5).squareRoot()))
      case .tanh: return 0.5 * v * (1 + Foundation.tanh(sqrtTwoOverPi * (v + 0.044715 * v * v * v)))
      case .quick: return v / (1 + Foundation.exp(-1.702 * v))
      }
    })
}
