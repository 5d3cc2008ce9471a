import Foundation
import VAImageIO
import VAInspection
import VALayers
import VAModels
import VATensorCore

/// What one forward pass gave `vit-attend`.
struct ModelRun {
  /// The normalised tensor the model saw, `[3, H, W]`.
  var input: [Float]
  var attention: AttentionRecord
  /// `[classes]`, when the model has a head.
  var logits: [Float]?
  /// An attention-pooling head's weights `[heads, queries, N]` over the patches, if any.
  var pool: (heads: Int, queries: Int, values: [Float])? = nil
}

/// A model `vit-attend` can draw: anything that records attention over image patches.
protocol InspectableModel {
  /// Named in captions and PNG text chunks.
  var name: String { get }
  var patchSize: Int { get }
  /// Longer side the `fit` policy resizes to.
  var preferredLongerSide: Int { get }
  /// The heads a map shows when neither `--head` nor `--fuse` is given.
  var defaultSelection: HeadSelection { get }
  /// Runs on an image already sized to a multiple of the patch size.
  func run(_ image: Image) throws -> ModelRun
  /// Position embeddings of the patches for a grid, `[N, D]` row-major, if the model has them.
  func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]?
  /// A short name for head `head`, when heads have meanings.
  func headName(_ head: Int) -> String?
}

/// The embedded default: `DescriptorAttentionModel`, needing no weights.
struct DefaultModel: InspectableModel {
  let model = DescriptorAttentionModel()

  var name: String { "descriptor attention (built-in, untrained)" }
  var patchSize: Int { model.patchSize }
  var preferredLongerSide: Int { 480 }
  /// The appearance head is the one that compares what patches look like.
  var defaultSelection: HeadSelection { .head(model.heads.firstIndex(of: .appearance) ?? 0) }

  func run(_ image: Image) throws -> ModelRun {
    let input = image.planarFloats()
    let out = model.attention(rgb: input, width: image.width, height: image.height)
    let record = AttentionRecord(
      layers: [out.weights], heads: model.heads.count, prefixTokens: 0, hasClassToken: false,
      gridWidth: out.gridWidth, gridHeight: out.gridHeight)
    return ModelRun(input: input, attention: record, logits: nil)
  }

  func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]? {
    model.positionCodes(gridWidth: gridWidth, gridHeight: gridHeight)
  }

  func headName(_ head: Int) -> String? { model.heads[head].rawValue }
}

/// A Vision Transformer loaded from a timm, Hugging Face or toolkit checkpoint.
struct CheckpointModel: InspectableModel {
  let model: VisionTransformer
  let layout: CheckpointLayout
  let path: String
  /// Settings no file gave (warned on stderr and named in captions).
  let inferred: [String]

  init(path: String, overrides: CheckpointOverrides) throws {
    let imported = try VisionTransformer.importCheckpoint(from: path, overrides: overrides)
    (model, layout, inferred) = (imported.model, imported.layout, imported.inferred)
    self.path = path
  }

  var name: String {
    let c = model.configuration
    let file = (path as NSString).lastPathComponent
    let guesses = inferred.map { $0.components(separatedBy: " (").first ?? $0 }
    return "ViT D=\(c.embedDimension) depth \(c.depth) \(c.headCount) heads /\(c.patchSize) (\(layout.rawValue): \(file))"
      + (guesses.isEmpty ? "" : "; " + guesses.joined(separator: "; "))
  }
  var patchSize: Int { model.configuration.patchSize }
  var preferredLongerSide: Int { max(model.configuration.imageWidth, model.configuration.imageHeight) }
  var defaultSelection: HeadSelection { .fused(.mean) }
  func headName(_ head: Int) -> String? { nil }

  func run(_ image: Image) throws -> ModelRun {
    let c = model.configuration
    let input = image.planarFloats(mean: c.mean, std: c.std)
    let output = withGradientsDisabled {
      model(Tensor(shape: [3, image.height, image.width], scalars: input), recordAttention: true)
    }
    let record = AttentionRecord(
      layers: output.attention.map(\.scalars), heads: c.headCount, prefixTokens: c.prefixTokens,
      hasClassToken: c.classToken, gridWidth: output.gridWidth, gridHeight: output.gridHeight)
    let pool = output.poolAttention.map { (heads: $0.shape[0], queries: $0.shape[1], values: $0.scalars) }
    return ModelRun(input: input, attention: record, logits: output.logits?.scalars, pool: pool)
  }

  func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]? {
    guard let table = model.positionTable(gridWidth: gridWidth, gridHeight: gridHeight) else { return nil }
    let d = model.configuration.embedDimension
    return Array(table.scalars.suffix(gridWidth * gridHeight * d))
  }
}
