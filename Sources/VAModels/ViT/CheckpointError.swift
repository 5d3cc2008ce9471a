import VASafetensors

/// Errors importing a checkpoint; each names the file and the tensor or setting at fault.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  /// The folder holds no `.safetensors` file.
  case noWeights(folder: String)
  /// The folder holds several `.safetensors` files and none was named.
  case ambiguousWeights(folder: String, files: [String])
  /// The weight file itself is unreadable or malformed.
  case file(SafetensorsError)
  /// No tensor names the file as a timm, Hugging Face or open_clip ViT; `sample` lists its first tensors.
  case unknownLayout(path: String, sample: [String])
  /// A tensor the architecture needs is not in the file.
  case missingTensor(path: String, name: String)
  /// A tensor's shape differs from what the inferred architecture needs.
  case shapeMismatch(path: String, name: String, expected: [Int], actual: [Int])
  /// The file has a tensor the loader does not use (an architecture variant it does not know).
  case unexpectedTensor(path: String, name: String)
  /// The tensors contradict each other or the settings (heads that do not divide the width).
  case inconsistent(path: String, reason: String)
  /// The configuration beside the weights (`config.json`, `open_clip_config.json`) is missing,
  /// malformed, or names an architecture or setting the loader does not implement.
  case badConfig(path: String, reason: String)

  /// The error as one line starting with the file or folder, naming the tensor and the shapes seen.
  public var description: String {
    switch self {
    case .noWeights(let folder): "\(folder): no .safetensors file in this folder"
    case .ambiguousWeights(let folder, let files): "\(folder): several weight files (\(files.joined(separator: ", "))); name one"
    case .file(let error): error.description
    case .unknownLayout(let path, let sample):
      "\(path): not a timm, Hugging Face or open_clip ViT checkpoint (no patch_embed.proj.weight, embeddings.patch_embeddings.projection.weight, vision_model.embeddings.patch_embedding.weight or visual.conv1.weight; first tensors: \(sample.joined(separator: ", ")))"
    case .missingTensor(let path, let name): "\(path): missing tensor '\(name)'"
    case .shapeMismatch(let path, let name, let expected, let actual): "\(path): tensor '\(name)' has shape \(actual), expected \(expected)"
    case .unexpectedTensor(let path, let name): "\(path): unexpected tensor '\(name)' (an architecture variant this loader does not know)"
    case .inconsistent(let path, let reason): "\(path): \(reason)"
    case .badConfig(let path, let reason): "\(path): \(reason)"
    }
  }
}
