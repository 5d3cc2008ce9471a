import Foundation
import VALayers
import VASafetensors
import VATensorCore

extension SwinTransformer: ParameterContainer {
  /// Every trainable tensor under timm's `SwinTransformer` names, in `state_dict` order:
  /// `patch_embed.{proj,norm}`, per stage `layers.{i}.downsample.{norm,reduction}` (`i ≥ 1`)
  /// then `layers.{i}.blocks.{j}.{norm1, attn.{relative_position_bias_table,qkv,proj}, norm2,
  /// mlp.{fc1,fc2}}`, then `norm` and `head.fc`. Shapes are this library's (the patch
  /// projection `[D, 3·P·P]`); `save` writes timm's. v1 only (v2's logit scale and bias MLP
  /// are read as constants by the forward).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("patch_embed", patchEmbedding)
    for (i, blocks) in stages.enumerated() {
      if i > 0 {
        let merge = merges[i - 1]
        out += prefixed("layers.\(i).downsample.norm", merge.norm) + prefixed("layers.\(i).downsample.reduction", merge.reduction)
      }
      for (j, block) in blocks.enumerated() {
        let b = "layers.\(i).blocks.\(j)."
        out += prefixed(b + "norm1", block.norm1)
        if let table = block.attention.biasTable { out.append((b + "attn.relative_position_bias_table", table)) }
        out += prefixed(b + "attn.qkv", block.attention.qkv) + prefixed(b + "attn.proj", block.attention.projection)
        out += prefixed(b + "norm2", block.norm2) + prefixed(b + "mlp", block.mlp)
      }
    }
    out += prefixed("norm", norm)
    if let head { out += prefixed("head.fc", head) }
    return out
  }

  /// The timm architecture name a saved model is built from: `model_args` override every
  /// size it implies (`timm.create_model(name, **model_args)`).
  public static let timmBaseArchitecture = "swin_tiny_patch4_window7_224"

  /// Saves a Swin v1 in timm's layout: `folder/model.safetensors` (timm's `state_dict` names,
  /// the patch projection as the conv weight `[D, 3, P, P]`; timm 1.0 keeps the relative
  /// position index and the shift mask out of its `state_dict`) and a timm hub-style
  /// `folder/config.json`: `architecture` `swin_tiny_patch4_window7_224` with `model_args`
  /// (`img_size`, `patch_size`, `embed_dim`, `depths`, `num_heads`, `window_size`,
  /// `num_classes`) that resize it, and `pretrained_cfg` (`input_size`, `mean`, `std`). timm
  /// loads it with `timm.create_model(architecture, pretrained=False, **model_args)` and
  /// `load_state_dict`; `SwinTransformer.load` reads it back. Each file is written to a
  /// temporary name and renamed into place.
  /// - Parameters:
  ///   - imageSize: the side of the square images the model was built for (timm's `img_size`,
  ///     which sizes its windows and masks: the tables here were sized for it).
  ///   - labelNames: class names in class-index order, written as `label_names`; nil writes none.
  /// - Throws: `CheckpointError.inconsistent` for a model timm's `SwinTransformer` cannot be
  ///   built as from those arguments (v2, another window policy, windows that differ per stage,
  ///   a table sized for another image), or label names whose count is not the class count.
  public func save(to folder: String, imageSize: Int, labelNames: [String]? = nil) throws {
    let c = configuration
    func refuse(_ reason: String) -> CheckpointError { .inconsistent(path: folder, reason: reason) }
    guard c.version == .v1, c.windowPolicy == .timm, c.mlpRatio == 4 else { throw refuse("only Swin v1 with timm's windows and an MLP ratio of 4 is saved in timm's layout") }
    guard Set(c.windows).count == 1 else { throw refuse("windows \(c.windows) differ per stage; only one window_size for all stages is saved") }
    guard imageSize % c.patchSize == 0 else { throw refuse("image size \(imageSize) is not a multiple of the patch size \(c.patchSize)") }
    for (g, block) in zip(geometry(imageHeight: imageSize, imageWidth: imageSize), stages.joined())
    where block.attention.trainedWindow != [g.windowHeight, g.windowWidth] {
      throw refuse("block \(g.block)'s position table is for a \(block.attention.trainedWindow) window but timm builds \([g.windowHeight, g.windowWidth]) for \(imageSize)-pixel images")
    }
    let classes = head?.outputs ?? 0
    if let labelNames, labelNames.count != classes { throw refuse("\(labelNames.count) label names for \(classes) classes") }
    let (d, p) = (c.embedDimension, c.patchSize)
    var writer = SafetensorsWriter()
    writer.metadata = ["format": "pt", "written_by": "VisionAttention"]
    for (name, tensor) in namedParameters {
      writer.add(name, shape: name == "patch_embed.proj.weight" ? [d, 3, p, p] : tensor.shape, values: tensor.scalars)
    }
    let args: [String: Any] = [
      "img_size": imageSize, "patch_size": p, "embed_dim": d, "depths": c.depths, "num_heads": c.heads,
      "window_size": c.windows[0], "num_classes": classes,
    ]
    var config: [String: Any] = [
      "architecture": Self.timmBaseArchitecture, "num_classes": classes, "num_features": c.featureWidth, "global_pool": "avg",
      "pretrained_cfg": [
        "input_size": [3, imageSize, imageSize], "mean": c.mean, "std": c.std, "interpolation": "bicubic", "crop_pct": 1.0,
        "first_conv": "patch_embed.proj", "classifier": "head.fc",
      ] as [String: Any],
      "model_args": args,
    ]
    if let labelNames { config["label_names"] = labelNames }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    // .atomic writes a temporary file and renames it, so a crash leaves the old file or none.
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("model.safetensors")), options: .atomic)
    try json.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("config.json")), options: .atomic)
  }
}
