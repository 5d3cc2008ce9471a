import Foundation
import VALayers
import VASafetensors
import VATensorCore

/// The two checkpoint layouts the importer reads.
public enum CheckpointLayout: String, Sendable {
  /// timm's `VisionTransformer.state_dict()` (`patch_embed.proj`, `blocks.{i}.attn.qkv`, …);
  /// also what this toolkit saves.
  case timm
  /// Hugging Face's `ViTModel` / `ViTForImageClassification` (`[vit.]embeddings.*`,
  /// `encoder.layer.{i}.attention.attention.{query,key,value}`, …).
  case huggingFace
}

extension VisionTransformer {
  /// Loads a checkpoint: a `.safetensors` file, or a folder holding one, with `config.json`
  /// and `preprocessor_config.json` read when they sit beside it.
  ///
  /// Without a config the architecture is inferred from tensor names and shapes; heads then
  /// default to `D / 64` unless `headCount` is given.
  /// - Throws: `CheckpointError` naming the file and the tensor or setting at fault.
  public static func load(from path: String, headCount: Int? = nil) throws(CheckpointError) -> (model: VisionTransformer, layout: CheckpointLayout) {
    let file = try resolveWeights(path)
    let folder = (file as NSString).deletingLastPathComponent
    let safetensors: SafetensorsFile
    do throws(SafetensorsError) {
      safetensors = try SafetensorsFile(path: file)
    } catch {
      throw .file(error)
    }
    let reader = CheckpointReader(safetensors)
    let config = try readJSON((folder as NSString).appendingPathComponent("config.json"))
    if reader.has("patch_embed.proj.weight") {
      return (try loadTimm(reader, config: config, headCount: headCount), .timm)
    }
    for prefix in ["vit.", ""] where reader.has(prefix + "embeddings.patch_embeddings.projection.weight") {
      let preprocessor = try readJSON((folder as NSString).appendingPathComponent("preprocessor_config.json"))
      return (try loadHuggingFace(reader, prefix: prefix, config: config, preprocessor: preprocessor, headCount: headCount), .huggingFace)
    }
    throw .unknownLayout(path: file, sample: Array(safetensors.tensorNames.prefix(4)))
  }

  /// A `.safetensors` path, or the single (or `model.safetensors`) one inside a folder.
  static func resolveWeights(_ path: String) throws(CheckpointError) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .file(.unreadable(path: path, reason: "no such file or folder"))
    }
    guard isDirectory.boolValue else { return path }
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
    if files.contains("model.safetensors") { return (path as NSString).appendingPathComponent("model.safetensors") }
    guard !files.isEmpty else { throw .noWeights(folder: path) }
    guard files.count == 1 else { throw .ambiguousWeights(folder: path, files: files) }
    return (path as NSString).appendingPathComponent(files[0])
  }

  /// Heads from the config, the caller, or `D / 64`.
  static func heads(configured: Int?, override: Int?, dimension d: Int, path: String) throws(CheckpointError) -> Int {
    if let n = override ?? configured {
      guard n > 0, d % n == 0 else { throw .inconsistent(path: path, reason: "\(n) heads do not divide the embedding dimension \(d)") }
      return n
    }
    guard d % 64 == 0 else { throw .inconsistent(path: path, reason: "cannot infer heads: embedding dimension \(d) is not a multiple of 64; give the head count") }
    return d / 64
  }

  /// The side of a square grid of `n` cells, or nil.
  static func squareSide(_ n: Int) -> Int? {
    let side = Int(Double(n).squareRoot().rounded())
    return side * side == n && side > 0 ? side : nil
  }
}
