import PatchClassifyKit
import VAImageIO
import VATensorCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One ShapeWorld scene: the picture and each object's class, box and visible pixels.
public struct ShapeScene: Sendable {
  /// One drawn object.
  public struct Object: Sendable {
    public var shape: ShapeKind
    /// The extent of the pixels it shows (after later objects are drawn over it): the box a
    /// COCO annotator derives from the visible mask.
    public var box: PixelBox
    /// Row-major, true where it contributes to the pixel.
    public var visible: [Bool]
  }
  /// RGB.
  public var image: Image
  /// In drawing order (later ones on top).
  public var objects: [Object]
}

/// Detection scenes from ShapeWorld's classes (`ShapeKind`, patch-classify's shapes): 1–5
/// bright objects of random class, size, rotation and colour on a dark textured background,
/// overlapping at most so that each keeps half its pixels visible.
///
/// Scene `i` depends only on `(seed, i)`. Objects are antialiased with 4×4 supersampling of
/// `ShapeKind.contains`. Backgrounds stay at or below 110 per channel and objects at or above
/// 150, so every pixel an object touches differs from the background: a box is exactly the
/// extent of the changed pixels its object shows.
public struct ShapeScenes: Sendable {
  public var imageSize: Int
  public var seed: UInt64
  /// Objects per scene, inclusive.
  public static let objectCount = 1...5
  /// Object radius as a fraction of the image side.
  public static let radiusFraction: ClosedRange<Float> = 0.07...0.22
  /// The classes, class `k` = `classes[k]`.
  public static let classes = ShapeKind.allCases

  /// Scenes of `imageSize × imageSize` pixels.
  public init(imageSize: Int = 128, seed: UInt64) {
    precondition(imageSize >= 32, "scenes need at least 32 pixels a side, got \(imageSize)")
    (self.imageSize, self.seed) = (imageSize, seed)
  }

  /// Scene `index`'s background alone (what `scene(index)` draws its objects on).
  public func background(_ index: Int) -> [Float] {
    var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) ^ 0xB5AD_4ECE_DA1C_E2A9)
    let s = imageSize
    let pattern = Int(rng.next() % 4)
    let first = (0..<3).map { _ in 12 + 70 * rng.nextUnitFloat() }
    let second = first.map { $0 + 40 * (rng.nextUnitFloat() - 0.5) }
    let phi = 2 * Float.pi * rng.nextUnitFloat()
    let (dx, dy) = (cosf(phi), sinf(phi))
    let frequency = 0.2 + 0.6 * rng.nextUnitFloat()
    let cell = Float(s) / (4 + 8 * rng.nextUnitFloat())
    var pixels = [Float](repeating: 0, count: s * s * 3)
    for y in 0..<s {
      for x in 0..<s {
        let (fx, fy) = (Float(x), Float(y))
        let t: Float =
          switch pattern {
          case 0: 0
          case 1: 0.5 + 0.5 * sinf(2 * Float.pi * (dx * fx + dy * fy) / Float(s))
          case 2: 0.5 + 0.5 * sinf(frequency * (dx * fx + dy * fy))
          default: (Int(fx / cell) + Int(fy / cell)) % 2 == 0 ? 0 : 1
          }
        for k in 0..<3 {
          let noise = Float(rng.nextStandardNormal()) * (pattern == 0 ? 14 : 7)
          pixels[(y * s + x) * 3 + k] = min(110, max(0, first[k] * (1 - t) + second[k] * t + noise))
        }
      }
    }
    return pixels
  }

  /// Scene `index` (any non-negative integer).
  public func scene(_ index: Int) -> ShapeScene {
    var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
    let s = imageSize
    let wanted = Self.objectCount.lowerBound + Int(rng.next() % UInt64(Self.objectCount.count))
    var coverages: [[Float]] = []
    var shapes: [ShapeKind] = [], colors: [[Float]] = []
    for _ in 0..<wanted {
      let shape = Self.classes[Int(rng.next() % UInt64(Self.classes.count))]
      let color = (0..<3).map { _ in 150 + 105 * rng.nextUnitFloat() }
      // A few placements; an object that would hide more than half of itself or of an
      // earlier one is left out, so every box names a clearly visible object.
      for _ in 0..<12 {
        let span = Self.radiusFraction.upperBound - Self.radiusFraction.lowerBound
        let radius = Float(s) * (Self.radiusFraction.lowerBound + span * rng.nextUnitFloat())
        let cx = radius + 1 + (Float(s) - 2 * radius - 2) * rng.nextUnitFloat()
        let cy = radius + 1 + (Float(s) - 2 * radius - 2) * rng.nextUnitFloat()
        let angle = 2 * Float.pi * rng.nextUnitFloat()
        let coverage = ShapeWorld.coverage(of: shape, cx: cx, cy: cy, radius: radius, angle: angle, size: s)
        let trial = coverages + [coverage]
        if (0..<trial.count).allSatisfy({ Self.visibleFraction(trial, object: $0) >= 0.5 }) {
          coverages = trial
          shapes.append(shape)
          colors.append(color)
          break
        }
      }
    }
    var pixels = background(index)
    for (coverage, color) in zip(coverages, colors) {
      for p in 0..<(s * s) where coverage[p] > 0 {
        for k in 0..<3 { pixels[p * 3 + k] = pixels[p * 3 + k] * (1 - coverage[p]) + color[k] * coverage[p] }
      }
    }
    let objects = shapes.indices.map { j in
      let visible = (0..<(s * s)).map { p in coverages[j][p] > 0 && !coverages[(j + 1)...].contains { $0[p] >= 1 } }
      return ShapeScene.Object(shape: shapes[j], box: Self.extent(of: visible, size: s), visible: visible)
    }
    let bytes = pixels.map { UInt8(max(0, min(255, $0.rounded()))) }
    return ShapeScene(image: Image(width: s, height: s, channels: 3, pixels: bytes), objects: objects)
  }

  /// The share of object `j`'s touched pixels that no later object covers whole.
  static func visibleFraction(_ coverages: [[Float]], object j: Int) -> Float {
    let touched = coverages[j].indices.filter { coverages[j][$0] > 0 }
    guard !touched.isEmpty else { return 0 }
    let shown = touched.filter { p in !coverages[(j + 1)...].contains { $0[p] >= 1 } }
    return Float(shown.count) / Float(touched.count)
  }

  /// The pixel-aligned box around the true cells of a row-major `size × size` mask.
  static func extent(of mask: [Bool], size s: Int) -> PixelBox {
    var (minX, minY, maxX, maxY) = (s, s, -1, -1)
    for p in mask.indices where mask[p] {
      (minX, maxX) = (min(minX, p % s), max(maxX, p % s))
      (minY, maxY) = (min(minY, p / s), max(maxY, p / s))
    }
    return PixelBox(minX: Float(minX), minY: Float(minY), maxX: Float(maxX + 1), maxY: Float(maxY + 1))
  }
}
