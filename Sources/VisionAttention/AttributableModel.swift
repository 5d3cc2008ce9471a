import VAImageIO
import VAModels
import VATensorCore

/// A model whose gradients can explain a target: class-specific maps (`gradrollout`,
/// `gradcam`, `attngrad`) and faithfulness curves need one.
public protocol AttributableModel: InspectableModel {
  /// Attribution of each image (all of one size, already sized for the model) for its
  /// target (`targets` holds one per image, or one for all).
  func attributions(_ images: [Image], targets: [AttributionTarget]) throws(VisionAttentionError) -> [Attribution]
  /// Class probabilities, `[classes]` per image, for images given as normalised model
  /// inputs `[B, 3, H, W]` (faithfulness curves perturb the normalised input).
  func probabilities(normalizedBatch inputs: Tensor) throws(VisionAttentionError) -> [[Float]]
  /// The image as the model's normalised input, `[3, H, W]` row-major.
  func normalizedInput(_ image: Image) -> [Float]
}

extension CheckpointModel: AttributableModel {
  public func attributions(_ images: [Image], targets: [AttributionTarget]) throws(VisionAttentionError) -> [Attribution] {
    guard let first = images.first else { return [] }
    let inputs = images.flatMap(normalizedInput)
    return try model.attributions(batch: Tensor(shape: [images.count, 3, first.height, first.width], scalars: inputs), targets: targets)
  }

  public func probabilities(normalizedBatch inputs: Tensor) throws(VisionAttentionError) -> [[Float]] {
    guard model.head != nil else { throw .noClassifier }
    let logits = withGradientsDisabled { model(batch: inputs).logits! }
    let b = inputs.shape[0], classes = logits.count / max(b, 1)
    let probabilities = withGradientsDisabled { softmax(logits, axis: -1) }.scalars
    return (0..<b).map { Array(probabilities[($0 * classes)..<(($0 + 1) * classes)]) }
  }

  public func normalizedInput(_ image: Image) -> [Float] {
    image.planarFloats(mean: model.configuration.mean, std: model.configuration.std)
  }
}
