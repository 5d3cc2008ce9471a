import VAImageIO
import VAModels
import VATensorCore

/// A model whose gradients can explain a target: class-specific maps (`gradrollout`,
/// `gradcam`, `attngrad`) and faithfulness curves need one.
public protocol AttributableModel: InspectableModel {
  /// Attribution of each image (all of one size, already sized for the model) for its
  /// target (`targets` holds one per image, or one for all).
  func attributions(_ images: [Image], targets: [AttributionTarget]) throws(VisionAttentionError) -> [Attribution]
  /// What the faithfulness curves follow, one value per image, for images given as
  /// normalised model inputs `[B, 3, H, W]` (the curves perturb the normalised input).
  func scores(normalizedBatch inputs: Tensor, following target: CurveTarget) throws(VisionAttentionError) -> [Double]
  /// The image as the model's normalised input, `[3, H, W]` row-major.
  func normalizedInput(_ image: Image) -> [Float]
}

extension CheckpointModel: AttributableModel {
  /// Runs one batched forward and backward pass for the images' targets (see the requirement).
  /// - Throws: `VisionAttentionError.noClassifier`, `.classOutOfRange` or `.embeddingSizeMismatch`
  ///   for a target the checkpoint cannot serve.
  public func attributions(_ images: [Image], targets: [AttributionTarget]) throws(VisionAttentionError) -> [Attribution] {
    guard let first = images.first else { return [] }
    let inputs = images.flatMap(normalizedInput)
    return try model.attributions(batch: Tensor(shape: [images.count, 3, first.height, first.width], scalars: inputs), targets: targets)
  }

  /// Forward pass without gradients over `[B, 3, H, W]`: the target's softmax probability, or the
  /// cosine similarity of the head's output (else the pooled tokens) to the embedding.
  /// - Throws: `VisionAttentionError.noClassifier`, `.classOutOfRange` or `.embeddingSizeMismatch`.
  public func scores(normalizedBatch inputs: Tensor, following target: CurveTarget) throws(VisionAttentionError) -> [Double] {
    let out = withGradientsDisabled { model(batch: inputs) }
    let b = inputs.shape[0]
    switch target {
    case .probability(let k):
      guard let logits = out.logits else { throw .noClassifier }
      let classes = logits.count / max(b, 1)
      guard k < classes else { throw .classOutOfRange(class: k, classes: classes) }
      let probabilities = withGradientsDisabled { softmax(logits, axis: -1) }.scalars
      return (0..<b).map { Double(probabilities[$0 * classes + k]) }
    case .similarity(let e):
      // The vector attribution compares with: the head's output (a CLIP-style projection),
      // else the pooled tokens.
      guard let v = (out.logits ?? out.pooled)?.scalars else { throw .noClassifier }
      let size = v.count / max(b, 1)
      guard size == e.count else { throw .embeddingSizeMismatch(got: e.count, expected: size) }
      return (0..<b).map { Self.cosine(v[($0 * size)..<(($0 + 1) * size)], e) }
    }
  }

  /// `a · b / (‖a‖ ‖b‖)` in `Double`, with the 1e-12 floors attribution's score uses.
  static func cosine(_ a: ArraySlice<Float>, _ b: [Float]) -> Double {
    var dot = 0.0, aa = 0.0, bb = 0.0
    for (x, y) in zip(a, b) { (dot, aa, bb) = (dot + Double(x) * Double(y), aa + Double(x) * Double(x), bb + Double(y) * Double(y)) }
    return dot / ((aa.squareRoot() + 1e-12) * max(bb.squareRoot(), 1e-12))
  }

  /// The image normalised with the checkpoint's mean and std, `[3, H, W]` row-major.
  public func normalizedInput(_ image: Image) -> [Float] {
    image.planarFloats(mean: model.configuration.mean, std: model.configuration.std)
  }
}

/// What faithfulness curves follow: the target class's probability, or, for a model without a
/// classifier, the cosine similarity between its embedding and a target embedding (the score
/// `--target-embedding` explains).
public enum CurveTarget: Sendable, Equatable {
  /// The softmax probability of class `class` (`--class`, or the top-1 on the unperturbed image).
  case probability(class: Int)
  /// The cosine similarity of the model's embedding to this vector (`--target-embedding`), `[D]`.
  case similarity(to: [Float])
}
