import VAImageIO
import VATensorCore

/// One ShapeWorld picture with its ground truth.
public struct ShapeWorldSample: Sendable {
  /// RGB, `size × size`.
  public var image: Image
  public var shape: ShapeKind
  /// Row-major `size × size`: true where the object covers at least half the pixel.
  public var mask: [Bool]
}

/// A procedurally generated classification dataset: one bright object of `ShapeKind` on a
/// dark noisy or textured background, with random colour, size, position and rotation.
///
/// Sample `i` depends only on `(seed, i)`, so any subset can be regenerated exactly and in
/// any order; classes cycle with the index (`i % 6`), so every split is balanced. Objects are
/// antialiased with 4×4 supersampling, and their masks say which pixels they cover, which is
/// what the pointing game scores attention against.
public struct ShapeWorld: Sendable {
  public var imageSize: Int
  public var seed: UInt64
  public static let classes = ShapeKind.allCases

  public init(imageSize: Int = 64, seed: UInt64) {
    precondition(imageSize >= 16, "ShapeWorld images need at least 16 pixels a side, got \(imageSize)")
    self.imageSize = imageSize
    self.seed = seed
  }

  /// Sample `index` (any non-negative integer).
  public func sample(_ index: Int) -> ShapeWorldSample {
    // Mixing the index through SplitMix64's own constant keeps neighbouring samples unrelated.
    var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
    let s = imageSize
    let shape = Self.classes[index % Self.classes.count]
    let background = Background(random: &rng)
    var pixels = [Float](repeating: 0, count: s * s * 3)
    for y in 0..<s {
      for x in 0..<s {
        let c = background.color(x: Float(x), y: Float(y), using: &rng)
        for k in 0..<3 { pixels[(y * s + x) * 3 + k] = c[k] }
      }
    }
    // A bright object on a darker background: edges keep one polarity whatever the colours,
    // which a patch embedding (linear in the pixels) can pick up from far fewer examples.
    let color = (0..<3).map { _ in 150 + 105 * rng.nextUnitFloat() }
    let radius = Float(s) * (0.2 + 0.1 * rng.nextUnitFloat())
    let cx = radius + 1 + (Float(s) - 2 * radius - 2) * rng.nextUnitFloat()
    let cy = radius + 1 + (Float(s) - 2 * radius - 2) * rng.nextUnitFloat()
    let angle = 2 * Float.pi * rng.nextUnitFloat()
    let coverage = Self.coverage(of: shape, cx: cx, cy: cy, radius: radius, angle: angle, size: s)
    var mask = [Bool](repeating: false, count: s * s)
    for p in 0..<(s * s) where coverage[p] > 0 {
      let alpha = coverage[p]
      mask[p] = alpha >= 0.5
      let shade = 1 + 0.08 * Float(rng.nextStandardNormal())
      for k in 0..<3 { pixels[p * 3 + k] = pixels[p * 3 + k] * (1 - alpha) + color[k] * shade * alpha }
    }
    let bytes = pixels.map { UInt8(max(0, min(255, $0.rounded()))) }
    return ShapeWorldSample(image: Image(width: s, height: s, channels: 3, pixels: bytes), shape: shape, mask: mask)
  }

  /// Fraction of each pixel of a `size × size` image that the shape covers, `[size · size]`
  /// row-major, in sixteenths: 4×4 samples per pixel taken into the object's frame (rotated
  /// by −angle, scaled by 1/radius). patch-detect's scenes draw their objects with it too.
  public static func coverage(of shape: ShapeKind, cx: Float, cy: Float, radius: Float, angle: Float, size s: Int) -> [Float] {
    var coverage = [Float](repeating: 0, count: s * s)
    let (cosA, sinA) = (cosf(angle), sinf(angle))
    let x0 = max(0, Int(cx - radius) - 1), x1 = min(s - 1, Int(cx + radius) + 1)
    let y0 = max(0, Int(cy - radius) - 1), y1 = min(s - 1, Int(cy + radius) + 1)
    for y in y0...y1 {
      for x in x0...x1 {
        var covered = 0
        for sy in 0..<4 {
          for sx in 0..<4 {
            let px = Float(x) + (Float(sx) + 0.5) / 4 - cx, py = Float(y) + (Float(sy) + 0.5) / 4 - cy
            if shape.contains((cosA * px + sinA * py) / radius, (-sinA * px + cosA * py) / radius) { covered += 1 }
          }
        }
        coverage[y * s + x] = Float(covered) / 16
      }
    }
    return coverage
  }

}

/// A ShapeWorld background: noise, a gradient, stripes or a checkerboard, each with pixel
/// noise, in dark colours (channels 12–90) so that the object stands out by brightness.
struct Background {
  enum Pattern { case noise, gradient, stripes, checker }
  var pattern: Pattern
  var first: [Float], second: [Float]
  var direction: (Float, Float)
  var frequency: Float
  var noise: Float

  init(random rng: inout SplitMix64) {
    pattern = [Pattern.noise, .gradient, .stripes, .checker][Int(rng.next() % 4)]
    first = (0..<3).map { _ in 12 + 78 * rng.nextUnitFloat() }
    // The second colour stays close to the first so the texture never outshouts the object.
    second = first.map { max(0, min(255, $0 + 28 * (rng.nextUnitFloat() - 0.5))) }
    let phi = 2 * Float.pi * rng.nextUnitFloat()
    direction = (cosf(phi), sinf(phi))
    frequency = 0.25 + 0.5 * rng.nextUnitFloat()
    noise = pattern == .noise ? 18 : 9
  }

  func color(x: Float, y: Float, using rng: inout SplitMix64) -> [Float] {
    let t: Float
    switch pattern {
    case .noise: t = 0
    case .gradient: t = 0.5 + 0.5 * sinf(0.03 * (direction.0 * x + direction.1 * y))
    case .stripes: t = 0.5 + 0.5 * sinf(frequency * (direction.0 * x + direction.1 * y))
    case .checker:
      let cell = 3 + 5 * frequency
      t = (Int((x / cell).rounded(.down)) + Int((y / cell).rounded(.down))) % 2 == 0 ? 0 : 1
    }
    return (0..<3).map { first[$0] * (1 - t) + second[$0] * t + noise * Float(rng.nextStandardNormal()) }
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
