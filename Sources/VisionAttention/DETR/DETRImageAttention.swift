import Foundation
import VAImageIO
import VAModels
import VATensorCore

/// One image run through a DETR checkpoint: the image as the model saw it, its size in the
/// input file, the model's outputs (every attention map, logits, boxes) and the detections
/// above a score. The DETR sibling of `ImageAttention`:
///
/// ```swift
/// let detr = try DETRModel(path: "detr-resnet-50")
/// let result = try DETRImageAttention(contentsOfFile: "cats.jpg", model: detr)
/// for d in result.detections(threshold: 0.7) { print(result.label(d.label), d.score) }
/// let map = result.output.crossAttentionMap(query: d.query)   // [h, w], Figure 6
/// ```
public struct DETRImageAttention: Sendable {
  /// The checkpoint the image ran through.
  public let model: DETRModel
  /// The model's input image, RGB, resized as `DetrImageProcessor` does (or as read, with
  /// `ResizePolicy.none`).
  public let image: Image
  /// The normalised input `[3, H, W]` the network read (`pixel_values[0]`).
  public let input: Tensor
  /// The input file's width and height in pixels (after EXIF orientation).
  public let originalWidth: Int, originalHeight: Int
  /// Everything the forward pass returned.
  public let output: DETROutput

  /// Decodes `path` (PNG or JPEG, by content), prepares it as `DetrImageProcessor` does and
  /// runs the model.
  /// - Throws: `ImageIOError` for unreadable or corrupt files.
  public init(contentsOfFile path: String, model: DETRModel, input settings: InputSettings = InputSettings(), attentionLimit: Int = 256 << 20) throws {
    try self.init(image: Image(contentsOfFile: path, options: settings.decode), model: model, resize: settings.resize, attentionLimit: attentionLimit)
  }

  /// Prepares `original` for `model` and runs it: with `.fit`, transformers'
  /// `DetrImageProcessor` (5.25's default, torchvision-backed): resized to
  /// `DETRPreprocessing.resizedSize` by torchvision's uint8 bilinear resize with antialias
  /// (`Image.torchvisionResized`; Pillow's or bicubic when `DETRModel.resizing` says), then `(x − 255·mean) / (255·std)` in float32, the fused
  /// rescale and normalisation of `TorchvisionBackend.rescale_and_normalize`. With `.none` the
  /// image keeps its size. One image needs no padding: its `pixel_mask` is all ones.
  /// - Throws: `VisionAttentionError.needsFullAttention` when the encoder's recorded attention
  ///   (layers · heads · S², S the feature cells) would exceed `attentionLimit` values: a large
  ///   image kept at its size would otherwise fail to allocate.
  public init(image original: Image, model: DETRModel, resize: ResizePolicy = .fit, attentionLimit: Int = 256 << 20) throws(VisionAttentionError) {
    let rgb = original.rgb()
    let preprocessing = model.imported.preprocessing
    let resizing = model.resizing
    let size = resize == .fit && resizing.resizes ? preprocessing.resizedSize(height: rgb.height, width: rgb.width) : (height: rgb.height, width: rgb.width)
    let sized =
      size == (rgb.height, rgb.width)
      ? rgb
      : resizing.backend == .torchvision
        ? rgb.torchvisionResized(width: size.width, height: size.height, filter: resizing.filter)
        : rgb.resized(width: size.width, height: size.height, filter: resizing.filter)
    let detr = model.imported.model, stride = detr.backbone.outputStride
    let cells = ((size.height + stride - 1) / stride) * ((size.width + stride - 1) / stride)
    let values = detr.encoder.count * detr.configuration.encoderHeads * cells * cells
    guard values <= attentionLimit else { throw .needsFullAttention(what: "DETR's encoder attention", values: values, limit: attentionLimit) }
    self.model = model
    image = sized
    (originalWidth, originalHeight) = (rgb.width, rgb.height)
    input = Self.normalised(sized, preprocessing)
    output = model.imported.model(input)
  }

  /// `image` as `[3, H, W]`: each channel's `(v − m) / s` with `m = mean · 255` and
  /// `s = std · 255` rounded to float32 first, as torch multiplies a float32 tensor by
  /// `1 / rescale_factor`.
  static func normalised(_ image: Image, _ preprocessing: DETRPreprocessing) -> Tensor {
    let plane = image.width * image.height
    var values = [Float](repeating: 0, count: 3 * plane)
    for c in 0..<3 {
      let (m, s) = (preprocessing.mean[c] * 255, preprocessing.std[c] * 255)
      for i in 0..<plane { values[c * plane + i] = (Float(image.pixels[3 * i + c]) - m) / s }
    }
    return Tensor(shape: [3, image.height, image.width], scalars: values)
  }

  /// The detections whose best class scores above `threshold`, boxes in the input file's
  /// pixels (transformers' `post_process_object_detection` with the file's size as target).
  public func detections(threshold: Float) -> [DETRDetection] {
    output.detections(threshold: threshold, width: originalWidth, height: originalHeight)
  }

  /// Class `index`'s name: `id2label`'s, else `LABEL_i` as transformers names a missing one.
  public func label(_ index: Int) -> String {
    let labels = model.classNames ?? model.imported.model.configuration.labels
    return labels.indices.contains(index) ? labels[index] : "LABEL_\(index)"
  }

  /// The feature cell under input-file pixel `(x, y)`, through the model input's scale.
  public func featureCell(atOriginalX x: Int, y: Int) -> (row: Int, column: Int) {
    let inputX = Int(Double(x) * Double(image.width) / Double(originalWidth))
    let inputY = Int(Double(y) * Double(image.height) / Double(originalHeight))
    return output.featureCell(x: inputX, y: inputY)
  }
}
