import ImageIO
import Inspection
import Models

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
  /// Runs on an image already sized to a multiple of the patch size.
  func run(_ image: Image) throws -> ModelRun
  /// Position embeddings of the patches for a grid, `[N, D]` row-major, if the model has them.
  func positionEmbeddings(gridWidth: Int, gridHeight: Int) -> [Float]?
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

  /// Head names for captions.
  func headName(_ head: Int) -> String { model.heads[head].rawValue }
}
