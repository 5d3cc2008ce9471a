import Foundation
import VALayers
import VATensorCore

/// DETR, detection as set prediction with a transformer (Carion et al. 2020, "End-to-End Object
/// Detection with Transformers"), exact against transformers' `DetrForObjectDetection` in eval.
///
/// Flow, for one image `[3, H, W]` (normalised, no padding):
/// ResNet trunk → `[C_b, h, w]` → 1×1 input projection → `[D, h, w]` → flattened row-major to
/// memory `[S, D]`, `S = h·w`, with the sine encoding `[S, D]` → encoder layers → decoder layers
/// over `Q` object queries that start at zero, with the learned query positions `[Q, D]` →
/// final decoder norm → class head `[Q, C+1]` (the last class is "no object") and the 3-layer
/// box MLP with a sigmoid, `[Q, 4]` boxes (cx, cy, w, h as fractions of the input).
public struct DETR: Sendable {
  /// What the checkpoint declares beside the weights (labels, widths, backbone kind).
  public let configuration: DETRConfiguration
  /// The ResNet backbone with frozen batch norms.
  public var backbone: ResNetTrunk
  /// The 1×1 convolution `C_b → D` (`model.input_projection`).
  public var inputProjection: Conv2D
  /// The spatial position encoding of the memory.
  public let positionEncoding: DETRSinePositionEncoding
  /// The encoder layers (`model.encoder.layers.{l}`).
  public var encoder: [DETREncoderLayer]
  /// The decoder layers (`model.decoder.layers.{l}`).
  public var decoder: [DETRDecoderLayer]
  /// The learned query positions, `[Q, D]` (`model.query_position_embeddings.weight`).
  public var queryPositions: Tensor
  /// The norm after the last decoder layer (`model.decoder.layernorm`).
  public var decoderNorm: LayerNorm
  /// `D → C+1` (`class_labels_classifier`).
  public var classHead: Linear
  /// `D → D → D → 4`, ReLU between (`bbox_predictor.layers.{0,1,2}`).
  public var boxHead: [Linear]

  /// A model from loaded parts; preconditions check that the widths agree.
  public init(
    configuration: DETRConfiguration, backbone: ResNetTrunk, inputProjection: Conv2D, encoder: [DETREncoderLayer],
    decoder: [DETRDecoderLayer], queryPositions: Tensor, decoderNorm: LayerNorm, classHead: Linear, boxHead: [Linear]
  ) {
    let d = inputProjection.outputs
    precondition(inputProjection.inputs == backbone.outputs, "DETR input projection takes \(inputProjection.inputs) channels, the backbone gives \(backbone.outputs)")
    precondition(queryPositions.rank == 2 && queryPositions.shape[1] == d, "DETR query positions must be [Q, \(d)], got \(queryPositions.shape)")
    precondition(boxHead.count == 3 && boxHead.last!.outputs == 4, "DETR's box head is three layers ending in 4 outputs, got \(boxHead.map(\.weight.shape))")
    precondition(classHead.inputs == d && d % 2 == 0, "DETR class head takes \(classHead.inputs) features, the width is \(d)")
    self.configuration = configuration
    (self.backbone, self.inputProjection, self.encoder, self.decoder) = (backbone, inputProjection, encoder, decoder)
    (self.queryPositions, self.decoderNorm, self.classHead, self.boxHead) = (queryPositions, decoderNorm, classHead, boxHead)
    positionEncoding = DETRSinePositionEncoding(featuresPerAxis: d / 2)
  }

  /// The transformer's width `D` (`d_model`).
  public var width: Int { inputProjection.outputs }
  /// The number of object queries `Q`.
  public var queries: Int { queryPositions.shape[0] }
  /// The number of classes `C`, without "no object".
  public var classes: Int { classHead.outputs - 1 }

  /// Runs the model on one normalised image `[3, H, W]`.
  ///
  /// Complexity: the backbone's convolutions, then O(L_e · S² · D + L_d · Q · (Q + S) · D).
  public func callAsFunction(_ image: Tensor) -> DETROutput {
    precondition(image.rank == 3 && image.shape[0] == 3, "DETR expects one image [3, H, W], got \(image.shape)")
    let features = backbone(image.unsqueezed(0))  // [1, C_b, h, w]
    let (h, w) = (features.shape[2], features.shape[3])
    // [1, D, h, w] → [S, D], rows in row-major order over the map (transformers' flatten(2).transpose(1, 2)).
    let projected = inputProjection(features).reshaped([width, h * w]).transposed(0, 1)
    let position = positionEncoding(height: h, width: w)
    var memory = projected
    var encoderAttention: [Tensor] = []
    for layer in encoder {
      let (output, weights) = layer(memory, position: position)
      memory = output
      encoderAttention.append(weights)
    }
    var t = Tensor.zeros([queries, width])
    var selfAttention: [Tensor] = [], crossAttention: [Tensor] = []
    for layer in decoder {
      let step = layer(t, queryPosition: queryPositions, memory: memory, position: position)
      t = step.output
      selfAttention.append(step.selfAttention)
      crossAttention.append(step.crossAttention)
    }
    t = decoderNorm(t)
    let boxes = boxHead[2](relu(boxHead[1](relu(boxHead[0](t))))).sigmoid()
    return DETROutput(
      logits: classHead(t), boxes: boxes, encoderAttention: encoderAttention, decoderSelfAttention: selfAttention,
      decoderCrossAttention: crossAttention, featureHeight: h, featureWidth: w, featureStride: backbone.outputStride)
  }
}

/// Everything one DETR forward pass returns, under the names `--dump` will write.
public struct DETROutput: Sendable {
  /// Class scores before the softmax, `[Q, C+1]`; the last column is "no object".
  public var logits: Tensor
  /// Boxes `[Q, 4]`: centre x, centre y, width, height as fractions of the input.
  public var boxes: Tensor
  /// Each encoder layer's self-attention, `[heads, S, S]`.
  public var encoderAttention: [Tensor]
  /// Each decoder layer's self-attention among the queries, `[heads, Q, Q]`.
  public var decoderSelfAttention: [Tensor]
  /// Each decoder layer's cross-attention from the queries to the memory, `[heads, Q, S]`.
  public var decoderCrossAttention: [Tensor]
  /// Rows `h` of the backbone's map; a memory index `s` is the cell `(s / w, s % w)`.
  public var featureHeight: Int
  /// Columns `w` of the backbone's map.
  public var featureWidth: Int
  /// Input pixels per feature cell along each side: the backbone's output stride (32 for
  /// the hub's ResNet-50, 16 for a three-stage trunk such as patch-detect's).
  public var featureStride: Int

  /// The tensors under their dump names: `detr.logits`, `detr.boxes`, `detr.encoder.{l}`,
  /// `detr.decoder_self.{l}`, `detr.decoder_cross.{l}`.
  public var namedTensors: [(name: String, tensor: Tensor)] {
    [("detr.logits", logits), ("detr.boxes", boxes)]
      + encoderAttention.enumerated().map { ("detr.encoder.\($0.offset)", $0.element) }
      + decoderSelfAttention.enumerated().map { ("detr.decoder_self.\($0.offset)", $0.element) }
      + decoderCrossAttention.enumerated().map { ("detr.decoder_cross.\($0.offset)", $0.element) }
  }

  /// The queries whose best real class scores above `threshold`, boxes in the pixels of a
  /// `width × height` image (the input file's size, to draw on the original), as transformers'
  /// `DetrImageProcessor.post_process_object_detection`: softmax over all `C+1` columns, the
  /// best of the first `C` ("no object" never wins), `(cx ∓ w/2, cy ∓ h/2)` scaled by the size.
  /// In query order, as transformers returns them; DETR's notebook uses `threshold` 0.7.
  public func detections(threshold: Float, width: Int, height: Int) -> [DETRDetection] {
    let c = logits.shape[1]
    let (logit, box) = (logits.scalars, boxes.scalars)
    return (0..<logits.shape[0]).compactMap { q in
      let row = logit[(q * c)..<((q + 1) * c)]
      let top = row.max()!
      let exps = row.map { Foundation.exp($0 - top) }
      let total = exps.reduce(0, +)
      // torch.max returns the first maximal index.
      var best = 0
      for k in 1..<(c - 1) where exps[k] > exps[best] { best = k }
      let score = exps[best] / total
      guard score > threshold else { return nil }
      let (cx, cy, w, h) = (box[4 * q], box[4 * q + 1], box[4 * q + 2], box[4 * q + 3])
      let (fw, fh) = (Float(width), Float(height))
      return DETRDetection(
        query: q, label: best, score: score,
        minX: (cx - 0.5 * w) * fw, minY: (cy - 0.5 * h) * fh, maxX: (cx + 0.5 * w) * fw, maxY: (cy + 0.5 * h) * fh)
    }
  }
}

/// One detected object: the query that found it, its class, score and box in pixels.
public struct DETRDetection: Sendable, Equatable {
  /// The object query's index, `0 ..< Q` (its row in `decoderCrossAttention`).
  public var query: Int
  /// The class index into `DETRConfiguration.labels`.
  public var label: Int
  /// The class's softmax probability.
  public var score: Float
  /// The box's corners in pixels, `(minX, minY)` top left, `(maxX, maxY)` bottom right
  /// (not clamped to the image, as transformers).
  public var minX: Float, minY: Float, maxX: Float, maxY: Float
}
