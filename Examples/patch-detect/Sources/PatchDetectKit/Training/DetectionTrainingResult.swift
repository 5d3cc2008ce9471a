import VAImageIO
import VAModels
import VATensorCore

/// A trained detector: the model, what it was trained on, and the loss history.
public struct DetectionTrainingResult: Sendable {
  /// The trained model (all query groups; `inference` keeps the first).
  public var model: SmallDETR
  /// The class names, in label order.
  public var classNames: [String]
  /// The side of the square images it was trained on (what `preprocessor_config.json` says).
  public var imageSize: Int
  /// What training logged.
  public var history: DetectionLossHistory
  /// The inference model: frozen norms, the first query group (what `saveHuggingFace` writes).
  public let inference: DETR

  /// A result; builds the inference model.
  public init(model: SmallDETR, classNames: [String], imageSize: Int, history: DetectionLossHistory) {
    (self.model, self.classNames, self.imageSize, self.history) = (model, classNames, imageSize, history)
    inference = model.frozen(labels: classNames)
  }

  /// The objects whose best class scores above `threshold`, boxes in `image`'s pixels, as
  /// transformers' `post_process_object_detection` gives them for the saved model.
  public func detect(_ image: Image, threshold: Float) -> [Detection] {
    let input = detrInput(image, preprocessing: SmallDETR.preprocessing(imageSize: imageSize))
    let output = withGradientsDisabled { inference(input) }
    return output.detections(threshold: threshold, width: image.width, height: image.height).map {
      Detection(label: $0.label, score: $0.score, box: PixelBox(minX: $0.minX, minY: $0.minY, maxX: $0.maxX, maxY: $0.maxY), query: $0.query)
    }
  }

  /// Writes `folder` as a `DetrForObjectDetection` checkpoint (`SmallDETR.saveHuggingFace`).
  public func saveHuggingFace(to folder: String, classNames: [String]) throws(DetectionExportError) {
    try model.saveHuggingFace(to: folder, labels: classNames, imageSize: imageSize)
  }
}
