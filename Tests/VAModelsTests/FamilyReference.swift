import Testing
import VASafetensors
import VATensorCore

@testable import VAModels

/// What a family's library wrote for one input, and the model its checkpoint loads as: the
/// check every family suite runs against its fixtures (written by the scripts in
/// Scripts/reference/, each naming its own regeneration command).
///
/// The reference file holds `input [3, H, W]`, `attn.{l} [heads, T, T]` for every layer and,
/// as the library has them, `logits`, `pooled`, `tokens [T, D]` and `attn.pool [heads, 1, N]`.
struct FamilyReference {
  /// The tensors compared after the layers' attention, in the order they are checked.
  static let outputs = ["logits", "pooled", "tokens", "attn.pool"]

  /// Outputs a model must not produce where the reference holds none: a head or a pooling
  /// attention the library lacks is a wrong configuration. (A model always has final tokens
  /// and often a pooled vector that a reference leaves out, so those two are not checked.)
  static let absentMeansNone: Set = ["logits", "attn.pool"]

  /// The model `importCheckpoint` loaded from the fixture (nothing inferred).
  let model: VisionTransformer
  /// Each checked tensor's largest absolute difference relative to the reference's largest
  /// magnitude (`peakRelativeError`), by the reference's tensor name.
  let errors: [String: Float]

  /// Loads fixture `name` with `VisionTransformer.importCheckpoint`, runs its `referenceFile`'s
  /// input with attention recorded, and expects every layer's attention, then each of
  /// `outputs` the reference holds, to have the reference's shape and to lie within 1e-5 of
  /// its largest value (the README's claim). Outputs in `absentMeansNone` the reference lacks
  /// must be absent from the model's output too.
  ///
  /// - Parameters:
  ///   - name: the fixture folder under Tests/VAModelsTests/Fixtures.
  ///   - referenceFile: `reference` or `reference2` (another input size), without extension.
  ///   - required: tensors the reference must hold (a fixture written without them fails).
  /// - Throws: when the fixture cannot be read, or the model lacks an output the reference has.
  /// - Complexity: one forward pass of the model.
  @discardableResult
  init(
    _ name: String, _ referenceFile: String, requiring required: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let imported = try VisionTransformer.importCheckpoint(from: fixturePath(name))
    #expect(imported.inferred.isEmpty, "\(imported.inferred)", sourceLocation: sourceLocation)
    // A local: the closure below may not capture self before every property is set.
    let model = imported.model
    self.model = model
    let reference = try SafetensorsFile(path: fixturePath("\(name)/\(referenceFile).safetensors"))
    let inputShape = try #require(reference.info("input"), "\(name): no input", sourceLocation: sourceLocation).shape
    let input = Tensor(shape: inputShape, scalars: try reference.floats("input"))
    let output = withGradientsDisabled { model(input, recordAttention: true) }
    #expect(output.attention.count == model.configuration.depth, sourceLocation: sourceLocation)
    for key in required {
      #expect(reference.info(key) != nil, "\(name) \(referenceFile): no \(key) in the reference", sourceLocation: sourceLocation)
    }
    var checked: [(key: String, tensor: Tensor?)] = output.attention.enumerated().map { ("attn.\($0)", $1) }
    checked += [output.logits, output.pooled, output.tokens, output.poolAttention].enumerated().map { (Self.outputs[$0], $1) }
    var errors: [String: Float] = [:]
    for (key, produced) in checked {
      guard let info = reference.info(key) else {
        if Self.absentMeansNone.contains(key) {
          #expect(produced == nil, "\(name): \(key) where the library has none", sourceLocation: sourceLocation)
        }
        continue
      }
      let actual = try #require(produced, "\(name): no \(key)", sourceLocation: sourceLocation)
      #expect(
        actual.shape == info.shape, "\(name) \(referenceFile) \(key): shape \(actual.shape) against \(info.shape)",
        sourceLocation: sourceLocation)
      let error = peakRelativeError(actual.scalars, try reference.floats(key))
      errors[key] = error
      #expect(
        error < 1e-5, "\(name) \(referenceFile) \(key): differs by \(error) of the largest value",
        sourceLocation: sourceLocation)
    }
    self.errors = errors
    let worst = errors.max { $0.value < $1.value }
    print("\(name) \(referenceFile): largest error \(worst?.value ?? 0) (\(worst?.key ?? "nothing checked"))")
  }
}
