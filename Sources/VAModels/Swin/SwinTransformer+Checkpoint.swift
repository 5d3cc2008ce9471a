import Foundation
import VALayers
import VASafetensors
import VATensorCore

extension SwinTransformer {
  /// Loads a Swin checkpoint: a `.safetensors` file or a folder holding `model.safetensors`,
  /// in timm's layout (`patch_embed.proj.weight`, `layers.{i}.blocks.{j}.*`, with timm's hub
  /// `config.json`) or transformers' (`swin.*` / `swinv2.*` or unprefixed, as transformers 4
  /// and 5 save them, with `config.json` and `preprocessor_config.json`).
  /// - Throws: `CheckpointError` naming the file and the tensor or setting at fault, including
  ///   any architecture name or argument the loader does not implement.
  public static func load(from path: String) throws(CheckpointError) -> SwinTransformer {
    let (reader, folder) = try CheckpointReader.open(path)
    let config = try readJSON((folder as NSString).appendingPathComponent("config.json"))
    var model: SwinTransformer
    if reader.has("patch_embed.proj.weight") && reader.has("layers.0.blocks.0.norm1.weight") {
      model = try loadTimm(reader, config: config, configPath: (folder as NSString).appendingPathComponent("config.json"))
    } else if let prefix = ["swin.", "swinv2.", ""].first(where: { reader.has($0 + "embeddings.patch_embeddings.projection.weight") && reader.has($0 + "encoder.layers.0.blocks.0.layernorm_before.weight") }) {
      let preprocessor = try readJSON((folder as NSString).appendingPathComponent("preprocessor_config.json"))
      model = try loadHuggingFace(reader, prefix: prefix, config: config, preprocessor: preprocessor, folder: folder)
    } else {
      throw .unknownLayout(path: reader.path, sample: Array(reader.file.tensorNames.prefix(4)))
    }
    // Buffers older checkpoints saved: recomputed here from the window.
    reader.ignore { name in
      ["relative_position_index", "relative_coords_table", "attn_mask", "k_bias"].contains { name.hasSuffix("." + $0) }
    }
    try reader.checkAllUsed()
    return model
  }

  /// Whether `path` (a `.safetensors` file or a folder holding one) is a Swin checkpoint in a
  /// layout `load` reads: timm's (`layers.0.blocks.0.*`) or transformers' (`encoder.layers.0.
  /// blocks.0.layernorm_before`, with or without `swin.`/`swinv2.`). Reads the header only; false
  /// for anything unreadable. How a caller picks this loader over `VisionTransformer`'s.
  public static func isSwinCheckpoint(at path: String) -> Bool {
    guard let names = CheckpointReader.tensorNames(at: path) else { return false }
    if names.contains("patch_embed.proj.weight") && names.contains("layers.0.blocks.0.norm1.weight") { return true }
    return ["swin.", "swinv2.", ""].contains { names.contains($0 + "encoder.layers.0.blocks.0.layernorm_before.weight") }
  }

  /// A patch embedding from a conv weight `[D, 3, P, P]`, its bias and a norm.
  static func patchEmbedding(_ reader: CheckpointReader, conv: String, norm: String, width d: Int, eps: Float) throws(CheckpointError) -> PatchEmbedding {
    guard let shape = reader.shape(conv + ".weight"), shape.count == 4, shape[0] == d, shape[1] == 3, shape[2] == shape[3] else {
      throw .shapeMismatch(path: reader.path, name: conv + ".weight", expected: [d, 3, 4, 4], actual: reader.shape(conv + ".weight") ?? [])
    }
    let p = shape[2]
    let projection = Linear(
      weight: try reader.tensor(conv + ".weight", [d, 3 * p * p], storedAs: [d, 3, p, p]), bias: try reader.optional(conv + ".bias", [d]))
    return PatchEmbedding(projection: projection, patchSize: p, norm: try reader.layerNorm(norm, width: d, eps: eps))
  }
}
