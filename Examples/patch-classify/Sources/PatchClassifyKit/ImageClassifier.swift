import Foundation
import VAInspection
import VAModels
import VATensorCore

/// A model the trainer can train: batched logits, its parameters, and a checkpoint format.
public protocol ImageClassifier: ParameterContainer {
  /// `[B, 3, H, W]` normalised images → `[B, classes]` logits. `training` switches
  /// train-time behaviour (batch-norm statistics, spectral-norm iterations).
  mutating func logits(_ images: Tensor, training: Bool) -> Tensor
  /// Input normalisation the model expects.
  var mean: [Float] { get }
  var std: [Float] { get }
  /// Parameters AdamW leaves undecayed (biases, norm gains, embeddings), as timm does.
  var parametersWithoutWeightDecay: [Tensor] { get }
  /// Writes the model (weights and `config.json`) into `folder`.
  func save(to folder: String) throws
  /// Model state that is not trained by gradients (batch-norm running statistics), by name.
  var namedBuffers: [(name: String, tensor: Tensor)] { get }
}

extension ImageClassifier {
  public var namedBuffers: [(name: String, tensor: Tensor)] { [] }
}

/// The ViT of `Models`, trained as a classifier.
public struct ViTClassifier: ImageClassifier {
  public var model: VisionTransformer
  /// Class names in class-index order, written to `config.json` as `label_names`.
  public var labelNames: [String]?

  public init(_ model: VisionTransformer, labelNames: [String]? = nil) {
    self.model = model
    self.labelNames = labelNames
  }

  public mutating func logits(_ images: Tensor, training: Bool) -> Tensor {
    model(batch: images, training: training).logits!
  }

  public var mean: [Float] { model.configuration.mean }
  public var std: [Float] { model.configuration.std }

  /// timm's `no_weight_decay`: position embeddings, class and register tokens, and every
  /// one-dimensional parameter (biases, LayerNorm and LayerScale gains).
  public var parametersWithoutWeightDecay: [Tensor] {
    model.namedParameters.filter { ["pos_embed", "cls_token", "reg_token"].contains($0.name) || $0.tensor.rank == 1 }.map(\.tensor)
  }

  public func save(to folder: String) throws { try model.save(to: folder, labelNames: labelNames) }

  public var namedParameters: [(name: String, tensor: Tensor)] { model.namedParameters }
  public var namedBuffers: [(name: String, tensor: Tensor)] { model.namedBuffers }
}

extension ViTClassifier: EvidenceProviding {
  /// "cls": the class token's attention over the patches in the last layer, heads averaged
  /// (what DINO's figures show); "rollout": the class token's row of attention rollout
  /// (Abnar & Zuidema 2020). Models without a class token name their map "pool": with an
  /// attention-pooling head, its query's attention over the patches (heads averaged), the
  /// weights the head's input is literally averaged with, and rollout is that row carried
  /// through the blocks' rollout; with average pooling, the patches' mean row, the attention
  /// each patch receives averaged over all queries, which is how much its value reaches the
  /// mean the head reads through the last layer.
  public mutating func evidence(_ images: Tensor) -> [EvidenceMaps] {
    let out = model(batch: images, recordAttention: true)
    let c = model.configuration
    return (0..<images.shape[0]).map { i in
      let record = out.attentionRecord(image: i, configuration: c)
      let rollout = record.rollout(.mean)
      if let pool = record.poolMap(.fused(.mean)) {
        return EvidenceMaps(
          gridWidth: out.gridWidth, gridHeight: out.gridHeight,
          maps: [
            ("pool", pool), ("rollout", Self.carried(pool, through: rollout, record)),
          ])
      }
      let last = record.fused(layer: c.depth - 1, .mean)
      return EvidenceMaps(
        gridWidth: out.gridWidth, gridHeight: out.gridHeight,
        maps: [
          (record.hasClassToken ? "cls" : "pool", Self.queryRow(last, record)), ("rollout", Self.queryRow(rollout, record)),
        ])
    }
  }

  /// `row · R` over the patches, for a pooling row `[N]` and a rollout matrix `[T, T]` whose
  /// patch rows and columns follow the prefix tokens.
  static func carried(_ row: [Float], through matrix: [Float], _ record: AttentionRecord) -> [Float] {
    let prefix = record.prefixTokens
    var out = [Float](repeating: 0, count: record.patchCount)
    for (q, weight) in row.enumerated() {
      for (j, v) in record.patchMap(of: matrix, query: prefix + q).enumerated() { out[j] += weight * v }
    }
    return out
  }

  /// The class token's row over the patches, or the patches' mean row without one.
  static func queryRow(_ matrix: [Float], _ record: AttentionRecord) -> [Float] {
    if record.hasClassToken { return record.patchMap(of: matrix, query: 0) }
    var sum = [Float](repeating: 0, count: record.patchCount)
    for q in record.prefixTokens..<record.tokens {
      for (j, v) in record.patchMap(of: matrix, query: q).enumerated() { sum[j] += v / Float(record.patchCount) }
    }
    return sum
  }
}
