import VAImageIO
import VAModels
import VATensorCore

/// A `DetrForObjectDetection` checkpoint run as transformers runs it for COCO evaluation: one
/// image at a time, resized and normalised as `DetrImageProcessor` does, every query kept.
public struct DETRDetector: Sendable {
  /// The network.
  public let model: DETR
  /// Its `preprocessor_config.json`.
  public let preprocessing: DETRPreprocessing

  /// A detector from an imported checkpoint.
  public init(_ imported: ImportedDETR) { (model, preprocessing) = (imported.model, imported.preprocessing) }

  /// The model's input for `image`, `[3, H', W']`: resized to `preprocessing.resizedSize` with
  /// torchvision's antialiased bilinear filter on bytes (`DetrImageProcessor`'s resample 2),
  /// then `(pixel / 255 − mean) / std`. A single image needs no padding.
  public func input(for image: Image) -> Tensor {
    let size = preprocessing.resizedSize(height: image.height, width: image.width)
    let resized = (size.height, size.width) == (image.height, image.width) ? image : image.torchvisionResized(width: size.width, height: size.height, filter: .bilinear)
    return Tensor(shape: [3, size.height, size.width], scalars: resized.planarFloats(mean: preprocessing.mean, std: preprocessing.std))
  }

  /// Every query's detection on `image`, boxes in `image`'s pixels, in query order (DETR's
  /// `PostProcess`: softmax, the best real class; COCO then keeps the 100 best), and the
  /// forward pass (for its attention maps).
  public func detect(_ image: Image) -> (detections: [Detection], output: DETROutput) {
    let output = model(input(for: image))
    let detections = output.detections(threshold: -.infinity, width: image.width, height: image.height).map {
      Detection(label: $0.label, score: $0.score, box: PixelBox(minX: $0.minX, minY: $0.minY, maxX: $0.maxX, maxY: $0.maxY), query: $0.query)
    }
    return (detections, output)
  }
}
