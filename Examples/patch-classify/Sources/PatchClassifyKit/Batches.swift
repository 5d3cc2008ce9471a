import VAImageIO
import VATensorCore

/// Turns images into normalised batch tensors, with the light augmentation training uses.
public struct BatchMaker: Sendable {
  /// Per-channel normalisation applied to 0…1 pixel values (the model's `mean` and `std`).
  public var mean: [Float]
  public var std: [Float]
  /// Largest shift of the random crop, in pixels (the image is reflected at its borders).
  public var cropPadding = 4

  public init(mean: [Float], std: [Float]) {
    self.mean = mean
    self.std = std
  }

  /// `[B, 3, S, S]` from same-sized RGB images, unchanged (evaluation).
  public func tensor(_ images: [Image]) -> Tensor {
    let s = images[0].height * images[0].width
    var values = [Float]()
    values.reserveCapacity(images.count * 3 * s)
    for image in images { values += image.planarFloats(mean: mean, std: std) }
    return Tensor(shape: [images.count, 3, images[0].height, images[0].width], scalars: values)
  }

  /// `[B, 3, S, S]` with each image shifted by up to `cropPadding` pixels each way (a random
  /// crop of the reflect-padded image) and, with `flips`, mirrored left to right half of the
  /// time. The generator advances the same either way, so `flips` changes nothing else.
  public func augmentedTensor(_ images: [Image], flips: Bool = true, using rng: inout SplitMix64) -> Tensor {
    let (h, w) = (images[0].height, images[0].width)
    var values = [Float](repeating: 0, count: images.count * 3 * h * w)
    let scale = (0..<3).map { 1 / (255 * std[$0]) }, shift = (0..<3).map { -mean[$0] / std[$0] }
    for (b, image) in images.enumerated() {
      let span = UInt64(2 * cropPadding + 1)
      let dx = Int(rng.next() % span) - cropPadding, dy = Int(rng.next() % span) - cropPadding
      let mirrored = rng.next() % 2 == 0 && flips
      for y in 0..<h {
        let sy = reflect(y + dy, h)
        for x in 0..<w {
          let sx = reflect((mirrored ? w - 1 - x : x) + dx, w)
          for c in 0..<3 {
            let v = Float(image.pixels[(sy * w + sx) * 3 + c])
            values[((b * 3 + c) * h + y) * w + x] = v * scale[c] + shift[c]
          }
        }
      }
    }
    return Tensor(shape: [images.count, 3, h, w], scalars: values)
  }
}

/// Index `i` folded back into `0..<n` by mirroring at the edges (`-1 → 1`, `n → n − 2`).
@inline(__always) func reflect(_ i: Int, _ n: Int) -> Int {
  if i < 0 { return min(-i, n - 1) }
  if i >= n { return max(2 * n - 2 - i, 0) }
  return i
}
