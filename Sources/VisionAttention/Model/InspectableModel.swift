import Foundation
import VAImageIO
import VAInspection
import VALayers
import VAModels
import VATensorCore

/// What one forward pass gave: the model's input, its attention and its logits.
public struct ModelRun: Sendable {
  /// The normalised tensor the model saw, `[3, H, W]`.
  public var input: [Float]
  /// Every layer's attention with the token geometry (prefix tokens, patch grid), and an
  /// attention-pooling head's weights when the model has one (`attention.pool`, SigLIP's
  /// MAP head; read with `attention.poolMap(_:)`).
  public var attention: AttentionRecord
  /// `[classes]`, when the model has a classifier.
  public var logits: [Float]?
  /// The pooled image embedding `[D]` of a model without a classifier (what a
  /// `--target-embedding` is compared with), for the dump.
  public var embedding: [Float]?
  /// The final tokens and every block's output, when the run was asked to keep them
  /// (`AttentionPlan.features`: `--map pca`, `--map norms`).
  public var features: TokenFeatures?

  /// A run's outputs; `logits`, `embedding` and `features` stay nil for a model without them.
  public init(input: [Float], attention: AttentionRecord, logits: [Float]? = nil, embedding: [Float]? = nil, features: TokenFeatures? = nil) {
    self.input = input
    self.attention = attention
    self.logits = logits
    self.embedding = embedding
    self.features = features
  }
}

/// A model whose attention can be drawn: anything that records attention over image
/// patches. `BuiltInModel` needs no weights; `CheckpointModel` loads a timm, Hugging Face or
/// toolkit checkpoint. Conform your own model to draw it with every map.
public protocol InspectableModel: Sendable {
  /// Named in captions and PNG text chunks.
  var name: String { get }
  /// Attention heads per layer.
  var headCount: Int { get }
  /// Side of a square patch in pixels: inputs are sized to a multiple of it.
  var patchSize: Int { get }
  /// Longer side the `fit` policy resizes to.
  var preferredLongerSide: Int { get }
  /// The most the `fit` policy may enlarge an image, or nil for no limit.
  var maximumUpscale: Double? { get }
  /// For a NaFlex model, the most patches the `fit` policy sizes an image to (aspect ratio
  /// kept, each side a whole number of patches, as `Siglip2ImageProcessor` does); nil for a
  /// model fitted to `preferredLongerSide`.
  var maximumPatches: Int? { get }
  /// The heads a map shows when neither `--head` nor `--fuse` is given.
  var defaultSelection: HeadSelection { get }
  /// Layers, heads, tokens and whether token 0 is a class token for a grid, so a run can
  /// size the attention (L·H·T²) before the model runs.
  func attentionShape(gridWidth: Int, gridHeight: Int) -> (layers: Int, heads: Int, tokens: Int, hasClassToken: Bool)
  /// Runs on an image already sized to a multiple of the patch size, keeping the attention
  /// `capture` asks for (a model that only forms full matrices keeps them all).
  func run(_ image: Image, capture: AttentionCapture) throws -> ModelRun
  /// As `run(_:capture:)`, also keeping the tokens (`ModelRun.features`) when `features` is
  /// set and the model has tokens (a model without them leaves `features` nil).
  func run(_ image: Image, capture: AttentionCapture, features: Bool) throws -> ModelRun
  /// Position embeddings of the patches for a grid, `[N, D]` row-major, if the model has them.
  func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]?
  /// A short name for head `head`, when heads have meanings.
  func headName(_ head: Int) -> String?
  /// Names of the classifier's outputs, when the checkpoint carries them.
  var classNames: [String]? { get }
  /// Per-channel mean and standard deviation the input is normalised with, `[3]` each, when
  /// the model normalises (recorded in dumps so tokens map back to pixel values).
  var normalization: (mean: [Float], std: [Float])? { get }
  /// Runs on several images of one size, in order: one pass over the batch where the model
  /// can (every matrix product covers the batch), else one image at a time; with `features`
  /// each run keeps its tokens (`ModelRun.features`), as a page or a token map needs.
  func run(batch images: [Image], features: Bool) throws -> [ModelRun]
  /// Images per `run(batch:)` that keep a batch's recorded attention and activations near
  /// 256 MiB at the model's preferred size.
  var suggestedBatchSize: Int { get }
}

extension InspectableModel {
  /// A checkpoint is fitted to its own size whatever the image's, as its library does.
  public var maximumUpscale: Double? { nil }
  /// No class names by default.
  public var classNames: [String]? { nil }
  /// Fitted to `preferredLongerSide` by default.
  public var maximumPatches: Int? { nil }
  /// No normalisation by default (the model sees pixel values in [0, 1]).
  public var normalization: (mean: [Float], std: [Float])? { nil }
  /// Runs keeping every layer's full attention.
  public func run(_ image: Image) throws -> ModelRun { try run(image, capture: .full) }
  /// A model without tokens: `features` is ignored.
  public func run(_ image: Image, capture: AttentionCapture, features: Bool) throws -> ModelRun { try run(image, capture: capture) }
  /// One image at a time, in order: the default for a model without a batched forward.
  public func run(batch images: [Image], features: Bool) throws -> [ModelRun] {
    try images.map { try run($0, capture: .full, features: features) }
  }
  /// `run(batch:features:)` keeping no tokens.
  public func run(batch images: [Image]) throws -> [ModelRun] { try run(batch: images, features: false) }
  /// One image per batch, the default for a model without a batched forward.
  public var suggestedBatchSize: Int { 1 }
}

/// The built-in model, needing no weights: `DescriptorAttentionModel`, one attention layer
/// whose queries and keys are fixed patch descriptors (untrained).
public struct BuiltInModel: InspectableModel {
  let model = DescriptorAttentionModel()

  /// The built-in model; it has no weights to load.
  public init() {}

  /// Says the model is built in and untrained, for captions.
  public var name: String { "descriptor attention (built-in, untrained)" }
  /// The descriptor model's patch side (`DescriptorAttentionModel.patchSize`).
  public var patchSize: Int { model.patchSize }
  /// One head per `DescriptorAttentionModel.Head`: appearance, colour, texture, position.
  public var headCount: Int { model.heads.count }
  /// The `fit` policy's longer side, 480 pixels (at most 2× enlarged, see `maximumUpscale`).
  public var preferredLongerSide: Int { 480 }
  /// Its descriptors need no fixed size, and enlarging a 64-pixel image to 480 adds only
  /// blur (and a 12 MB page): at most 2×.
  public var maximumUpscale: Double? { 2 }
  /// The appearance head is the one that compares what patches look like.
  public var defaultSelection: HeadSelection { .head(model.heads.firstIndex(of: .appearance) ?? 0) }

  /// One layer over the patches alone (`T = N`), no class token.
  public func attentionShape(gridWidth: Int, gridHeight: Int) -> (layers: Int, heads: Int, tokens: Int, hasClassToken: Bool) {
    (1, model.heads.count, gridWidth * gridHeight, false)
  }

  /// Always full: the descriptor model forms its `[heads, N, N]` weights directly.
  public func run(_ image: Image, capture: AttentionCapture) throws -> ModelRun {
    let input = image.planarFloats()
    let out = model.attention(rgb: input, width: image.width, height: image.height)
    let record = AttentionRecord(
      layers: [out.weights], heads: model.heads.count, prefixTokens: 0, hasClassToken: false,
      gridWidth: out.gridWidth, gridHeight: out.gridHeight)
    return ModelRun(input: input, attention: record, logits: nil)
  }

  /// The 2D sin-cos codes the descriptor heads use, `[N, positionChannels]`.
  public func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]? {
    model.positionCodes(gridWidth: gridWidth, gridHeight: gridHeight)
  }

  /// The head's `DescriptorAttentionModel.Head` name (`appearance`, `colour`, …).
  public func headName(_ head: Int) -> String? { model.heads[head].rawValue }
}

/// A Vision Transformer loaded from a timm, Hugging Face or toolkit checkpoint.
public struct CheckpointModel: InspectableModel {
  /// The network with its loaded weights.
  public let model: VisionTransformer
  /// Whose parameter names the checkpoint used: timm's (also this toolkit's), Hugging Face's or
  /// open_clip's.
  public let layout: CheckpointLayout
  /// The file or folder it was loaded from.
  public let path: String
  /// Class labels read beside the checkpoint (`CheckpointLabels`), one per classifier output.
  public let classNames: [String]?
  /// Settings no file gave (heads, normalisation, input size), one sentence each: warned
  /// on stderr by the command and named in captions.
  public let inferred: [String]

  /// Loads `path`: a `.safetensors` file or a folder holding one (with `config.json` and
  /// `preprocessor_config.json` beside it when the checkpoint has them). `ModelSource.load()`
  /// calls this for a checkpoint, and is what vit-attend's every path uses.
  /// - Parameters:
  ///   - path: the checkpoint file or folder.
  ///   - overrides: heads and normalisation for a checkpoint without a config.
  /// - Throws: the loader's `CheckpointError` or `SafetensorsError`, naming the file.
  public init(path: String, overrides: CheckpointOverrides = CheckpointOverrides()) throws {
    let imported = try VisionTransformer.importCheckpoint(from: path, overrides: overrides)
    (model, layout, inferred) = (imported.model, imported.layout, imported.inferred)
    self.path = path
    classNames = CheckpointLabels.read(near: path, classes: model.configuration.classCount)
  }

  /// "ViT D=…, depth …, heads, patch size (layout: file)", then the loader's guesses, for captions.
  public var name: String {
    let c = model.configuration
    let file = (path as NSString).lastPathComponent
    let guesses = inferred.map { $0.components(separatedBy: " (").first ?? $0 }
    // A conv stem's tokens stand for cells of the patch size but see more than their cell.
    let tokens = c.convStem == nil ? "patch \(c.patchSize)" : "conv stem, \(c.patchSize)-pixel cells"
    return "ViT D=\(c.embedDimension), depth \(c.depth), \(plural(c.headCount, "head")), \(tokens) (\(layout.rawValue): \(file))"
      + (guesses.isEmpty ? "" : "; " + guesses.joined(separator: "; "))
  }
  /// The checkpoint's patch side (for a conv stem, the side of the cell each token stands for).
  public var patchSize: Int { model.configuration.patchSize }
  /// Heads per layer, from the config or `CheckpointOverrides`.
  public var headCount: Int { model.configuration.headCount }
  /// The trained input's longer side: `fit` resizes to it, as timm's transforms do.
  public var preferredLongerSide: Int { model.configuration.fitSide ?? max(model.configuration.imageWidth, model.configuration.imageHeight) }
  /// A NaFlex checkpoint's `max_num_patches` (SigLIP-2), which `fit` sizes images to.
  public var maximumPatches: Int? { model.configuration.maximumPatches }
  /// The mean over heads, as the attention-map literature draws ViTs.
  public var defaultSelection: HeadSelection { .fused(.mean) }
  /// Nil: a ViT's heads have no fixed meanings.
  public func headName(_ head: Int) -> String? { nil }

  /// `depth` layers of `[heads, T, T]`, `T = prefixTokens + N`, from the configuration.
  public func attentionShape(gridWidth: Int, gridHeight: Int) -> (layers: Int, heads: Int, tokens: Int, hasClassToken: Bool) {
    let c = model.configuration
    return (c.depth, c.headCount, c.prefixTokens + gridWidth * gridHeight, c.classToken)
  }

  /// Whether attention rows can be recomputed from queries and keys alone: not when an
  /// additive position bias (BEiT) enters the scores, so such a model always runs `.full`.
  public var recomputesRows: Bool { model.relativePositionBiases.isEmpty }

  /// Normalises with the checkpoint's mean and std and runs the forward, keeping the attention
  /// `capture` asks for (`.full` when `recomputesRows` is false).
  public func run(_ image: Image, capture: AttentionCapture) throws -> ModelRun {
    try run(image, capture: capture, features: false)
  }

  /// `run(_:capture:)`, also keeping the final tokens and every block's output with `features`.
  public func run(_ image: Image, capture: AttentionCapture, features: Bool) throws -> ModelRun {
    let c = model.configuration
    let input = image.planarFloats(mean: c.mean, std: c.std)
    let (output, record) = model.inspect(
      Tensor(shape: [3, image.height, image.width], scalars: input), capture: recomputesRows ? capture : .full, recordBlockOutputs: features)
    let kept =
      features
      ? TokenFeatures(
        dimension: c.embedDimension, tokens: output.tokens.shape[0], final: output.tokens.scalars, blocks: output.blockOutputs.map(\.scalars))
      : nil
    return ModelRun(
      input: input, attention: record, logits: output.logits?.scalars,
      embedding: output.logits == nil ? output.pooled?.scalars : nil, features: kept)
  }

  /// The checkpoint's per-channel mean and std, `[3]` each.
  public var normalization: (mean: [Float], std: [Float])? { (model.configuration.mean, model.configuration.std) }

  /// Images per batch that keep the recorded attention (L·H·T²) and a block's activations near 256
  /// MiB at the trained size, from 1 to 16.
  public var suggestedBatchSize: Int {
    let c = model.configuration
    let tokens = (c.imageWidth / c.patchSize) * (c.imageHeight / c.patchSize) + c.prefixTokens
    // Recorded attention (L·H·T²) plus a block's activations (about 12·T·D) per image.
    let bytes = 4 * (c.depth * c.headCount * tokens * tokens + 12 * tokens * c.embedDimension)
    return min(max((256 << 20) / max(bytes, 1), 1), 16)
  }

  /// One forward over the whole batch when the images share a size (the batch's matrix
  /// products amortise the weights' packing), else one at a time; with `features`, each
  /// image's final tokens and block outputs are kept as `run(_:capture:features:)` keeps them.
  public func run(batch images: [Image], features: Bool) throws -> [ModelRun] {
    guard let first = images.first, images.count > 1,
      images.allSatisfy({ $0.width == first.width && $0.height == first.height })
    else { return try images.map { try run($0, capture: .full, features: features) } }
    let c = model.configuration
    let inputs = images.map { $0.planarFloats(mean: c.mean, std: c.std) }
    let b = images.count, h = first.height, w = first.width
    let output = withGradientsDisabled {
      model(batch: Tensor(shape: [b, 3, h, w], scalars: inputs.flatMap { $0 }), recordAttention: true, recordBlockOutputs: features)
    }
    let logits = output.logits?.scalars  // [B, classes]
    let pooled = logits == nil ? output.pooled?.scalars : nil  // [B, D], without a classifier
    func own(_ all: [Float], _ i: Int) -> [Float] {
      let size = all.count / b
      return Array(all[(i * size)..<((i + 1) * size)])
    }
    let tokens = output.tokens.shape[1]
    return (0..<b).map { i in
      let kept =
        features
        ? TokenFeatures(
          dimension: c.embedDimension, tokens: tokens, final: own(output.tokens.scalars, i), blocks: output.blockOutputs.map { own($0.scalars, i) })
        : nil
      return ModelRun(
        input: inputs[i], attention: output.attentionRecord(image: i, configuration: c),
        logits: logits.map { own($0, i) }, embedding: pooled.map { own($0, i) }, features: kept)
    }
  }

  /// The position table resampled to the grid, patch rows only (prefix rows dropped), `[N, D]`.
  public func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]? {
    guard let table = model.positionTable(gridWidth: gridWidth, gridHeight: gridHeight) else { return nil }
    let d = model.configuration.embedDimension
    return Array(table.scalars.suffix(gridWidth * gridHeight * d))
  }
}
