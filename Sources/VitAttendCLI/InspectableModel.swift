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
  /// Layers, heads, tokens and whether token 0 is a class token for a grid, so the pipeline
  /// can size the attention (L·H·T²) before running.
  func attentionShape(gridWidth: Int, gridHeight: Int) -> (layers: Int, heads: Int, tokens: Int, hasClassToken: Bool)
  /// Runs on an image already sized to a multiple of the patch size, keeping the attention
  /// `capture` asks for (a model that only forms full matrices keeps them all).
  func run(_ image: Image, capture: AttentionCapture) throws -> ModelRun
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

  func attentionShape(gridWidth: Int, gridHeight: Int) -> (layers: Int, heads: Int, tokens: Int, hasClassToken: Bool) {
    (1, model.heads.count, gridWidth * gridHeight, false)
  }

  /// Always full: the descriptor model forms its `[heads, N, N]` weights directly.
  func run(_ image: Image, capture: AttentionCapture) throws -> ModelRun {
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

  init(path: String, headCount: Int?) throws {
    (model, layout) = try VisionTransformer.load(from: path, headCount: headCount)
    self.path = path
  }

  var name: String {
    let c = model.configuration
    let file = (path as NSString).lastPathComponent
    return "ViT D=\(c.embedDimension) depth \(c.depth) \(c.headCount) heads /\(c.patchSize) (\(layout.rawValue): \(file))"
  }
  var patchSize: Int { model.configuration.patchSize }
  var preferredLongerSide: Int { max(model.configuration.imageWidth, model.configuration.imageHeight) }
  var defaultSelection: HeadSelection { .fused(.mean) }
  func headName(_ head: Int) -> String? { nil }

  func attentionShape(gridWidth: Int, gridHeight: Int) -> (layers: Int, heads: Int, tokens: Int, hasClassToken: Bool) {
    let c = model.configuration
    return (c.depth, c.headCount, c.prefixTokens + gridWidth * gridHeight, c.classToken)
  }

  func run(_ image: Image, capture: AttentionCapture) throws -> ModelRun {
    let c = model.configuration
    let input = image.planarFloats(mean: c.mean, std: c.std)
    let (output, record) = model.inspect(Tensor(shape: [3, image.height, image.width], scalars: input), capture: capture)
    return ModelRun(input: input, attention: record, logits: output.logits?.scalars)
  }

  func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]? {
    guard let table = model.positionTable(gridWidth: gridWidth, gridHeight: gridHeight) else { return nil }
    let d = model.configuration.embedDimension
    return Array(table.scalars.suffix(gridWidth * gridHeight * d))
  }
}
