/// The sizes of the DETR that patch-detect trains from scratch: a basic-block ResNet for small
/// images (transformers' `ResNetConfig` with `layer_type: "basic"`, so the hub's loader reads
/// it), then DETR's transformer and heads (Carion et al. 2020).
///
/// With the defaults a 128×128 image gives an 8×8 map (the stem and its pool stride 4, then
/// three stages, the last two stride 2: output stride 16), 64 memory tokens of width 128.
public struct SmallDETRConfiguration: Sendable, Equatable, Codable {
  /// Real classes `C` (the class head has `C + 1` outputs, the last "no object").
  public var classes: Int
  /// Channels of the 7×7 stride-2 stem (`embedding_size`).
  public var stemWidth: Int = 32
  /// Channels of each stage (`hidden_sizes`); the first stage has stride 1, the others 2.
  public var stageWidths: [Int] = [32, 64, 128]
  /// Basic blocks per stage (`depths`).
  public var depths: [Int] = [1, 1, 1]
  /// The transformer's width `D` (`d_model`).
  public var width: Int = 128
  /// Attention heads in every layer.
  public var heads: Int = 4
  /// The feed-forward networks' hidden width (`encoder_ffn_dim`, `decoder_ffn_dim`).
  public var feedForward: Int = 256
  /// Encoder and decoder layers.
  public var encoderLayers: Int = 2, decoderLayers: Int = 3
  /// Object queries `Q` at inference (`num_queries`).
  public var queries: Int = 20
  /// Query groups trained one-to-many (Group DETR); only the first is exported. 1 is plain DETR.
  public var groups: Int = 4

  /// The defaults for `classes` classes.
  public init(classes: Int) {
    precondition(classes > 0, "a detector needs at least one class")
    self.classes = classes
  }

  /// The input's side over the last map's side (4 for the stem and pool, ×2 per later stage).
  public var outputStride: Int { 4 << (stageWidths.count - 1) }

  /// Checks that the widths fit together; the message names the first that does not.
  public func validate() -> String? {
    if stageWidths.isEmpty || stageWidths.count > 4 || stageWidths.count != depths.count { return "stage widths \(stageWidths) and depths \(depths) must be 1 to 4 stages alike" }
    if depths.contains(where: { $0 < 1 }) { return "every stage needs at least one block, got \(depths)" }
    if width % heads != 0 || width % 4 != 0 { return "width \(width) must be a multiple of 4 and of heads \(heads)" }
    if queries < 1 || groups < 1 || encoderLayers < 1 || decoderLayers < 1 { return "queries, groups and layers must be at least 1" }
    return nil
  }
}
