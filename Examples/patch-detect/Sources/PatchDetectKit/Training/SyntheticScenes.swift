import VAImageIO
import VATensorCore

/// Small procedurally drawn detection scenes for tests and training experiments: one to
/// `maxObjects` bright squares, discs and triangles on a dark noisy background, each with its
/// exact box. Scene `i` depends only on `(seed, i)`. (The ShapeWorld scenes patch-detect
/// exports for users are `--export-scenes`'; these are for checking that training learns.)
public struct SyntheticScenes: Sendable {
  /// The classes, in label order.
  public static let classNames = ["square", "disc", "triangle"]
  /// Side of the square images.
  public var size: Int
  /// Objects per scene, at most.
  public var maxObjects: Int
  /// The stream's seed.
  public var seed: UInt64

  /// A scene stream.
  public init(size: Int, maxObjects: Int = 3, seed: UInt64) {
    precondition(size >= 16 && maxObjects >= 1, "scenes need at least 16 pixels a side and one object, got \(size), \(maxObjects)")
    (self.size, self.maxObjects, self.seed) = (size, maxObjects, seed)
  }

  /// Scenes `range`.
  public func samples(_ range: Range<Int>) -> [DetectionSample] { range.map(sample) }

  /// Scene `index`: objects sized 15 % to 40 % of the side, placed so that no two boxes overlap
  /// by more than a tenth of the smaller one (up to 20 tries each, else fewer objects).
  public func sample(_ index: Int) -> DetectionSample {
    var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
    let s = Float(size)
    var pixels = [UInt8](repeating: 0, count: size * size * 3)
    let tint = (0..<3).map { _ in 20 + 40 * rng.nextUnitFloat() }
    for i in 0..<(size * size) {
      for k in 0..<3 { pixels[i * 3 + k] = UInt8(max(0, min(255, tint[k] + 25 * (rng.nextUnitFloat() - 0.5)))) }
    }
    let count = 1 + Int(rng.next() % UInt64(maxObjects))
    var boxes: [PixelBox] = [], labels: [Int] = []
    for _ in 0..<count {
      for _ in 0..<20 {
        let side = s * (0.15 + 0.25 * rng.nextUnitFloat())
        let x0 = (s - side) * rng.nextUnitFloat(), y0 = (s - side) * rng.nextUnitFloat()
        let box = PixelBox(minX: x0, minY: y0, maxX: x0 + side, maxY: y0 + side)
        let clashes = boxes.contains { other in
          let w = min(box.maxX, other.maxX) - max(box.minX, other.minX), h = min(box.maxY, other.maxY) - max(box.minY, other.minY)
          return w > 0 && h > 0 && w * h > 0.1 * min(box.area, other.area)
        }
        if clashes { continue }
        let label = Int(rng.next() % 3)
        let color = (0..<3).map { _ in UInt8(150 + 105 * rng.nextUnitFloat()) }
        draw(label, in: box, color: color, pixels: &pixels)
        boxes.append(box)
        labels.append(label)
        break
      }
    }
    let image = Image(width: size, height: size, channels: 3, pixels: pixels)
    return DetectionSample(path: "scene-\(index)", image: image, boxes: boxes, labels: labels)
  }

  /// Fills the pixels whose centres fall inside the shape: the box itself (square), the
  /// inscribed disc, or the triangle with its apex at the top middle and its base at the bottom.
  private func draw(_ label: Int, in box: PixelBox, color: [UInt8], pixels: inout [UInt8]) {
    let x0 = max(0, Int(box.minX)), x1 = min(size - 1, Int(box.maxX)), y0 = max(0, Int(box.minY)), y1 = min(size - 1, Int(box.maxY))
    guard x0 <= x1 && y0 <= y1 else { return }
    let (w, h) = (box.maxX - box.minX, box.maxY - box.minY)
    for y in y0...y1 {
      for x in x0...x1 {
        let u = (Float(x) + 0.5 - box.minX) / w, v = (Float(y) + 0.5 - box.minY) / h
        guard (0...1).contains(u) && (0...1).contains(v) else { continue }
        let inside: Bool
        switch label {
        case 0: inside = true
        case 1: inside = (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5) <= 0.25
        default: inside = abs(u - 0.5) <= 0.5 * v
        }
        if inside { for k in 0..<3 { pixels[(y * size + x) * 3 + k] = color[k] } }
      }
    }
  }
}
