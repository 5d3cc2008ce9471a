import VAModels

/// Which model a run draws: a checkpoint with the settings its files may leave out, or the
/// built-in model. `load()` is the one way to get it, for every path that runs a model
/// (figures, pages, folder runs, dumps and `--faithfulness` in vit-attend, and a library
/// user's program):
///
/// ```swift
/// let loaded = try ModelSource(weights: "vit_small", overrides: CheckpointOverrides(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])).load()
/// for note in loaded.inferred { print("warning: \(note)") }
/// let result = try ImageAttention(contentsOfFile: "cat.png", model: loaded.model)
/// ```
public struct ModelSource: Sendable, Equatable {
  /// A `.safetensors` file or a folder holding one (timm, Hugging Face, open_clip or this
  /// toolkit's layout), or nil for the built-in model.
  public var weights: String?
  /// Heads and normalisation for what the checkpoint's files do not say (given ones win
  /// over a config's); the built-in model has neither.
  public var overrides: CheckpointOverrides

  /// A source for `weights` (nil: the built-in model) with `overrides` for what its files leave
  /// out.
  public init(weights: String? = nil, overrides: CheckpointOverrides = CheckpointOverrides()) {
    self.weights = weights
    self.overrides = overrides
  }

  /// Loads the model.
  /// - Throws: the loader's `CheckpointError` or `SafetensorsError`, naming the file.
  public func load() throws -> LoadedModel {
    guard let weights else { return LoadedModel(model: BuiltInModel(), inferred: []) }
    // Swin and DETR have their own pipelines (`loadFamily()`); what takes a vision
    // transformer says so rather than fail on a missing ViT tensor.
    for (family, matches) in [("Swin", SwinTransformer.isSwinCheckpoint(at:)), ("DETR", DETR.isDETRCheckpoint(at:))] where matches(weights) {
      throw CheckpointError.badConfig(path: weights, reason: "a \(family) checkpoint, where a vision transformer is needed (this path takes ViTs only)")
    }
    let checkpoint = try CheckpointModel(path: weights, overrides: overrides)
    return LoadedModel(model: checkpoint, inferred: checkpoint.inferred)
  }
}

/// A loaded model and what its loader had to guess.
public struct LoadedModel: Sendable {
  /// The model, ready to run (`BuiltInModel` or `CheckpointModel`).
  public let model: any InspectableModel
  /// One sentence per setting no file gave (heads, normalisation, input size), empty when the
  /// files said everything: each changes the numbers, so a caller should say them (vit-attend
  /// warns on stderr; the model's captions name them too).
  public let inferred: [String]

  /// The model as one whose maps can be differentiated (gradient maps, `--faithfulness`):
  /// a checkpoint, not the built-in model.
  public var attributable: (any AttributableModel)? { model as? any AttributableModel }
}
