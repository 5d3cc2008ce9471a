import VALayers
import VAModels
import VATensorCore

/// The DETR that patch-detect trains (Carion et al. 2020), in `DetrForObjectDetection`'s
/// layout: `SmallResNet` → 1×1 input projection → sine position encoding → post-norm encoder
/// layers → decoder layers over object queries that start at zero with learned query positions
/// → shared final decoder norm → class head `[·, C+1]` and the 3-layer box MLP with a sigmoid.
///
/// Training runs `groups × queries` queries in `groups` independent sets (Group DETR, Chen et
/// al. 2023: each group attends only within itself; `SetCriterion` matches each one-to-one);
/// `frozen` keeps the first group, so inference is plain DETR with `queries` queries.
///
/// Shapes in `forward`: images `[B, 3, H, W]`; logits `[L, B, G·Q, C+1]` and boxes
/// `[L, B, G·Q, 4]` (cx, cy, w, h in [0, 1]), one slice per decoder layer, the last one last.
public struct SmallDETR: ParameterContainer, BufferContainer, Sendable {
  public let configuration: SmallDETRConfiguration
  public var backbone: SmallResNet
  public var inputProjection: Conv2D
  public var encoder: [DETREncoderLayer]
  public var decoder: [DETRDecoderLayer]
  /// `[G·Q, D]`, group g's positions at rows `g·Q ..< (g+1)·Q`.
  public var queryPositions: Tensor
  public var decoderNorm: LayerNorm
  public var classHead: Linear
  public var boxHead: [Linear]

  /// A fresh model: Xavier transformer projections (DETR's init), query positions from
  /// N(0, 1) (`nn.Embedding`'s), the box head's last layer at zero so every box starts at the
  /// image's centre with half its size.
  public init<G: RandomNumberGenerator>(_ c: SmallDETRConfiguration, using rng: inout G) {
    precondition(c.validate() == nil, "SmallDETRConfiguration: \(c.validate() ?? "")")
    configuration = c
    backbone = SmallResNet(c, using: &rng)
    let d = c.width
    inputProjection = Conv2D(inputs: backbone.outputs, outputs: d, kernel: 1, using: &rng)
    encoder = (0..<c.encoderLayers).map { _ in DETREncoderLayer(width: d, heads: c.heads, feedForward: c.feedForward, using: &rng) }
    decoder = (0..<c.decoderLayers).map { _ in DETRDecoderLayer(width: d, heads: c.heads, feedForward: c.feedForward, using: &rng) }
    queryPositions = Tensor.randomNormal([c.groups * c.queries, d], mean: 0, std: 1, using: &rng)
    decoderNorm = LayerNorm(channels: d, eps: 1e-5)
    classHead = xavierLinear(d, c.classes + 1, using: &rng)
    boxHead = [xavierLinear(d, d, using: &rng), xavierLinear(d, d, using: &rng), Linear(weight: Tensor.zeros([4, d]), bias: Tensor.zeros([4]))]
  }

  /// The position encoding DETR adds to the memory's queries and keys.
  public var positionEncoding: DETRSinePositionEncoding { DETRSinePositionEncoding(featuresPerAxis: configuration.width / 2) }

  /// Every decoder layer's predictions for a batch; `training` puts the backbone's norms on
  /// batch statistics. `groups` query groups run (pass 1 for the first group only).
  public func forward(_ images: Tensor, training: Bool, groups: Int? = nil) -> (logits: Tensor, boxes: Tensor) {
    let c = configuration
    let (b, d, g, q) = (images.shape[0], c.width, groups ?? c.groups, c.queries)
    let features = backbone(images, training: training)
    let (h, w) = (features.shape[2], features.shape[3])
    // [B, D, h, w] → [B, S, D], rows row-major over the map.
    var memory = inputProjection(features).reshaped([b, d, h * w]).transposed(1, 2)
    let position = positionEncoding(height: h, width: w)
    for layer in encoder { memory = layer.batched(memory, position: position) }
    // Groups ride in the batch axis: [B, S, D] → [B·G, S, D] so each group attends alone.
    func perGroup(_ x: Tensor) -> Tensor {
      g == 1 ? x : x.unsqueezed(1).broadcast(to: [b, g, h * w, d]).reshaped([b * g, h * w, d])
    }
    let (groupMemory, groupKeys) = (perGroup(memory), perGroup(memory + position))
    let positions = queryPositions.sliced(axis: 0, range: 0..<(g * q)).reshaped([1, g, q, d]).broadcast(to: [b, g, q, d]).reshaped([b * g, q, d])
    var t = Tensor.zeros([b * g, q, d])
    var logits: [Tensor] = [], boxes: [Tensor] = []
    for layer in decoder {
      t = layer.batched(t, queryPosition: positions, memory: groupMemory, memoryKeys: groupKeys)
      let normed = decoderNorm(t).reshaped([b, g * q, d])
      logits.append(classHead(normed).unsqueezed(0))
      boxes.append(boxHead[2](relu(boxHead[1](relu(boxHead[0](normed))))).sigmoid().unsqueezed(0))
    }
    return (concat(logits, axis: 0), concat(boxes, axis: 0))
  }

  /// Parameters under `DetrForObjectDetection`'s names (transformers 4, as the hub's files).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("model.backbone.conv_encoder.model", backbone) + prefixed("model.input_projection", inputProjection)
    out.append(("model.query_position_embeddings.weight", queryPositions))
    for (l, layer) in encoder.enumerated() { out += prefixed("model.encoder.layers.\(l)", layer.namedParameters) }
    for (l, layer) in decoder.enumerated() { out += prefixed("model.decoder.layers.\(l)", layer.namedParameters) }
    out += prefixed("model.decoder.layernorm", decoderNorm) + prefixed("class_labels_classifier", classHead)
    for (i, layer) in boxHead.enumerated() { out += prefixed("bbox_predictor.layers.\(i)", layer) }
    return out
  }

  /// The backbone's running statistics under the same prefix.
  public var namedBuffers: [(name: String, tensor: Tensor)] { prefixedBuffers("model.backbone.conv_encoder.model", backbone) }

  /// The backbone's parameters (trained with the lower learning rate, as DETR's `lr_backbone`).
  public var backboneParameters: [Tensor] { backbone.parameters }

  /// The inference model: frozen norms at the running statistics, the first query group.
  /// Shares the weight tensors (train more, and `frozen` sees it only through new copies of
  /// the query positions: build it again).
  public func frozen(labels: [String]) -> DETR {
    let c = configuration
    var json: [String: Any] = [:]
    json["use_timm_backbone"] = false
    json["backbone_config"] = ["model_type": "resnet", "layer_type": "basic", "depths": c.depths, "out_features": ["stage\(c.depths.count)"]]
    json["d_model"] = c.width
    json["encoder_attention_heads"] = c.heads
    json["decoder_attention_heads"] = c.heads
    json["num_queries"] = c.queries
    json["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
    // The configuration this model writes is one the loader accepts by construction.
    let configuration = try! DETRConfiguration(json: json, path: "SmallDETR")
    return DETR(
      configuration: configuration, backbone: backbone.frozen, inputProjection: inputProjection, encoder: encoder, decoder: decoder,
      queryPositions: queryPositions.sliced(axis: 0, range: 0..<c.queries).detached(), decoderNorm: decoderNorm, classHead: classHead, boxHead: boxHead)
  }
}
