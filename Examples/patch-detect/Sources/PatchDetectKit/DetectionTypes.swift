import VAImageIO

/// An axis-aligned box in an image's pixels, by its corners (`minX` ≤ `maxX`, `minY` ≤ `maxY`).
/// COCO's `bbox` is `[minX, minY, width, height]`; DETR's boxes are (cx, cy, w, h) as
/// fractions of the input (`normalizedCenter(width:height:)`).
public struct PixelBox: Sendable, Equatable, Codable {
  public var minX: Float, minY: Float, maxX: Float, maxY: Float

  /// A box from its corners.
  public init(minX: Float, minY: Float, maxX: Float, maxY: Float) {
    (self.minX, self.minY, self.maxX, self.maxY) = (minX, minY, maxX, maxY)
  }

  /// A box from COCO's `[x, y, width, height]`.
  public init(coco bbox: [Float]) {
    self.init(minX: bbox[0], minY: bbox[1], maxX: bbox[0] + bbox[2], maxY: bbox[1] + bbox[3])
  }

  /// Width × height (0 for an empty box).
  public var area: Float { max(maxX - minX, 0) * max(maxY - minY, 0) }

  /// COCO's `[x, y, width, height]`.
  public var coco: [Float] { [minX, minY, maxX - minX, maxY - minY] }

  /// (cx, cy, w, h) as fractions of an image `width` × `height`: DETR's box targets.
  public func normalizedCenter(width: Int, height: Int) -> [Float] {
    let w = Float(width), h = Float(height)
    return [(minX + maxX) / 2 / w, (minY + maxY) / 2 / h, (maxX - minX) / w, (maxY - minY) / h]
  }
}

/// One training or validation image with its ground truth.
public struct DetectionSample: Sendable {
  /// Where it was read from (for messages and figures).
  public var path: String
  /// The image, RGB, as decoded.
  public var image: Image
  /// Ground-truth boxes in `image`'s pixels.
  public var boxes: [PixelBox]
  /// Each box's class, an index into the data set's categories (0..<classes), not COCO's id.
  public var labels: [Int]

  /// A sample; `boxes` and `labels` have the same count.
  public init(path: String, image: Image, boxes: [PixelBox], labels: [Int]) {
    precondition(boxes.count == labels.count, "one label per box")
    (self.path, self.image, self.boxes, self.labels) = (path, image, boxes, labels)
  }
}

/// One predicted object: its class index, its score and its box in the image's pixels.
public struct Detection: Sendable, Equatable {
  /// Class index (0..<classes), as `DetectionSample.labels`.
  public var label: Int
  /// Confidence in [0, 1] (DETR: the softmax probability of `label`).
  public var score: Float
  /// The box, in the pixels of the image it was predicted on.
  public var box: PixelBox
  /// The object query that predicted it, when a DETR did.
  public var query: Int?

  /// A detection.
  public init(label: Int, score: Float, box: PixelBox, query: Int? = nil) {
    (self.label, self.score, self.box, self.query) = (label, score, box, query)
  }
}
