import Foundation
import VAModels
import VATensorCore

/// The Swin Transformer of `Models`, trained as a classifier (`--model swin`), saved in
/// timm's layout (`SwinTransformer.save`), which `vit-attend --weights` and timm both load.
public struct SwinClassifier: ImageClassifier {
  public var model: SwinTransformer
  /// The side of the square images it takes (timm's `img_size`: its windows and masks are
  /// built for it, so timm refuses other sizes).
  public var imageSize: Int
  /// Class names in class-index order, written to `config.json` as `label_names`.
  public var labelNames: [String]?

  /// A classifier around `model`; a precondition checks that it has a head and takes `imageSize`.
  public init(_ model: SwinTransformer, imageSize: Int, labelNames: [String]? = nil) {
    precondition(model.head != nil, "a Swin classifier needs a head")
    precondition(imageSize % model.configuration.patchSize == 0, "image size \(imageSize) is not a multiple of the patch size \(model.configuration.patchSize)")
    self.model = model
    self.imageSize = imageSize
    self.labelNames = labelNames
  }

  /// The forward cannot throw here: the images are `[B, 3, S, S]` with `S` a multiple of the
  /// patch, which the initialiser checked and `BatchMaker` makes.
  public mutating func logits(_ images: Tensor, training: Bool) -> Tensor {
    do { return try model(batch: images).logits! } catch { preconditionFailure("Swin classifier on \(images.shape): \(error)") }
  }

  public var mean: [Float] { model.configuration.mean }
  public var std: [Float] { model.configuration.std }

  /// timm's `SwinTransformer.no_weight_decay_keywords` (`relative_position_bias_table`) and
  /// every one-dimensional parameter (biases, LayerNorm gains), as timm's optimiser factory.
  public var parametersWithoutWeightDecay: [Tensor] {
    model.namedParameters.filter { $0.name.hasSuffix("relative_position_bias_table") || $0.tensor.rank == 1 }.map(\.tensor)
  }

  public func save(to folder: String) throws { try model.save(to: folder, imageSize: imageSize, labelNames: labelNames) }

  public var namedParameters: [(name: String, tensor: Tensor)] { model.namedParameters }
}

extension SwinClassifier: EvidenceProviding {
  /// Two maps over the last stage's cells: "cam", the class activation map (Zhou et al. 2016)
  /// of the predicted class, `Σ_c w[k, c] · tokens[c]` over the normed last-stage tokens:
  /// exact for Swin's mean-pooled linear head, whose logit is this map's mean plus the bias;
  /// and "attn", the attention each cell receives in the last block, averaged over its
  /// window's queries and the heads (a cell's share of what its window attends to).
  public mutating func evidence(_ images: Tensor) -> [EvidenceMaps] {
    let out: SwinTransformer.Output
    do { out = try model(batch: images) } catch { preconditionFailure("Swin classifier on \(images.shape): \(error)") }
    let size = out.stageSizes.last!, cells = size.height * size.width
    let (b, c) = (images.shape[0], model.configuration.featureWidth)
    let predicted = Evaluation.argmaxRows(out.logits!)
    let weights = model.head!.weight.scalars, tokens = out.tokens.scalars
    let g = out.geometry.last!, attention = out.attention.last!.scalars
    let sources = g.sourceCells()
    let (windows, heads, n) = (g.windowCount, model.configuration.heads.last!, g.tokensPerWindow)
    return (0..<b).map { i in
      var cam = [Float](repeating: 0, count: cells)
      for cell in 0..<cells {
        let row = (i * cells + cell) * c, w = predicted[i] * c
        for k in 0..<c { cam[cell] += weights[w + k] * tokens[row + k] }
      }
      var received = [Float](repeating: 0, count: cells)
      for window in 0..<windows {
        for h in 0..<heads {
          let base = ((i * windows + window) * heads + h) * n * n
          for q in 0..<n {
            for k in 0..<n {
              guard let cell = sources[window * n + k] else { continue }
              received[cell] += attention[base + q * n + k] / Float(heads * n)
            }
          }
        }
      }
      return EvidenceMaps(gridWidth: size.width, gridHeight: size.height, maps: [("cam", cam), ("attn", received)])
    }
  }
}
