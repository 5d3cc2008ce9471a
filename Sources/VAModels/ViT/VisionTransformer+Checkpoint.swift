import Foundation
import VALayers
import VASafetensors
import VATensorCore

extension VisionTransformer {
  /// Loads a checkpoint: a `.safetensors` file, or a folder holding one, with `config.json`
  /// and `preprocessor_config.json` read when they sit beside it.
  ///
  /// Without a config the architecture is inferred from tensor names and shapes; heads then
  /// default to `D / 64` unless `headCount` is given. See `importCheckpoint` for the notes
  /// on what was inferred.
  /// - Throws: `CheckpointError` naming the file and the tensor or setting at fault.
  public static func load(from path: String, headCount: Int? = nil) throws(CheckpointError) -> (model: VisionTransformer, layout: CheckpointLayout) {
    let imported = try importCheckpoint(from: path, overrides: CheckpointOverrides(headCount: headCount))
    return (imported.model, imported.layout)
  }

  /// Loads a checkpoint (see `load`), applying `overrides`, and lists what was inferred.
  /// - Throws: `CheckpointError` naming the file and the tensor or setting at fault, including
  ///   any architecture name, activation, pooling or config key the loader does not implement.
  public static func importCheckpoint(from path: String, overrides: CheckpointOverrides = CheckpointOverrides()) throws(CheckpointError) -> ImportedCheckpoint {
    let (reader, folder) = try CheckpointReader.open(path)
    let config = try readJSON((folder as NSString).appendingPathComponent("config.json"))
    var notes: [String] = []
    var result: ImportedCheckpoint?
    if reader.has("patch_embed.proj.weight") || reader.has(convStemMarker) {
      result = ImportedCheckpoint(model: try loadTimm(reader, config: config, overrides: overrides, notes: &notes), layout: .timm, inferred: [])
    }
    if result == nil, reader.has("embeds.proj.weight") {
      result = ImportedCheckpoint(model: try loadTimmNaFlex(reader, config: config, overrides: overrides, notes: &notes), layout: .timm, inferred: [])
    }
    let preprocessorPath = (folder as NSString).appendingPathComponent("preprocessor_config.json")
    for prefix in ["vit.", "deit.", "dinov2.", ""] where result == nil && reader.has(prefix + "embeddings.patch_embeddings.projection.weight") {
      result = ImportedCheckpoint(
        model: try loadHuggingFace(reader, prefix: prefix, config: config, preprocessor: try readJSON(preprocessorPath), overrides: overrides, notes: &notes),
        layout: .huggingFace, inferred: [])
    }
    if result == nil, isHuggingFaceDINOv3(reader) {
      result = ImportedCheckpoint(
        model: try loadHuggingFaceDINOv3(reader, config: config, preprocessor: try readJSON(preprocessorPath), overrides: overrides, notes: &notes),
        layout: .huggingFace, inferred: [])
    }
    for prefix in ["vision_model.", ""] where result == nil && reader.has(prefix + "embeddings.patch_embedding.weight") {
      result = ImportedCheckpoint(
        model: try loadHuggingFaceTower(reader, prefix: prefix, config: config, preprocessor: try readJSON(preprocessorPath), overrides: overrides, notes: &notes),
        layout: .huggingFace, inferred: [])
    }
    if result == nil, reader.has("visual.conv1.weight") {
      let configPath = (folder as NSString).appendingPathComponent("open_clip_config.json")
      result = ImportedCheckpoint(
        model: try loadOpenCLIP(reader, config: try readJSON(configPath), configPath: configPath, overrides: overrides, notes: &notes),
        layout: .openCLIP, inferred: [])
    }
    if result == nil, reader.has("preprocessor.patchifier.proj.weight") {
      // timm's hub (timm/aimv2_*) ships its own layout; Apple's is only remapped by timm's
      // checkpoint_filter_fn (_convert_aimv2), which this loader does not repeat.
      throw .badConfig(
        path: reader.path,
        reason: "Apple's original AIMv2 layout (preprocessor.patchifier.*, trunk.blocks.*) is not read; use timm's (timm/aimv2_* on the hub, or timm.create_model(..., pretrained=True).state_dict())")
    }
    guard var result else { throw .unknownLayout(path: reader.path, sample: Array(reader.file.tensorNames.prefix(4))) }
    if let mean = overrides.mean { result.model.configuration.mean = mean }
    if let std = overrides.std { result.model.configuration.std = std }
    result.inferred = notes.filter { note in
      // A setting the caller gave is no longer a guess.
      !(overrides.mean != nil && overrides.std != nil && note.hasPrefix("normalisation"))
    }
    return result
  }

  /// A `.safetensors` path, or the single (or `model.safetensors`, else
  /// `open_clip_model.safetensors`) one inside a folder.
  static func resolveWeights(_ path: String) throws(CheckpointError) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .file(.unreadable(path: path, reason: "no such file or folder"))
    }
    guard isDirectory.boolValue else { return path }
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
    if files.contains("model.safetensors") { return (path as NSString).appendingPathComponent("model.safetensors") }
    if files.contains("open_clip_model.safetensors") { return (path as NSString).appendingPathComponent("open_clip_model.safetensors") }
    guard !files.isEmpty else { throw .noWeights(folder: path) }
    guard files.count == 1 else { throw .ambiguousWeights(folder: path, files: files) }
    return (path as NSString).appendingPathComponent(files[0])
  }

  /// Heads from the caller, the config, or `D / 64` (with a note).
  static func heads(configured: Int?, override: Int?, dimension d: Int, path: String, notes: inout [String]) throws(CheckpointError) -> Int {
    if let n = override ?? configured {
      guard n > 0, d % n == 0 else { throw .inconsistent(path: path, reason: "\(n) heads do not divide the embedding dimension \(d)") }
      return n
    }
    guard d % 64 == 0 else { throw .inconsistent(path: path, reason: "cannot infer heads: embedding dimension \(d) is not a multiple of 64; give the head count") }
    notes.append("heads inferred as width / 64 = \(d / 64) (no config gives them; --head-count sets them)")
    return d / 64
  }

  /// The note for normalisation no config gave.
  static let normalisationNote = "normalisation inferred as mean 0.5, std 0.5 (no config gives it; --mean and --std set it)"

  /// The side of a square grid of `n` cells, or nil.
  static func squareSide(_ n: Int) -> Int? {
    let side = Int(Double(n).squareRoot().rounded())
    return side * side == n && side > 0 ? side : nil
  }
}
