import VASafetensors

/// Errors importing a checkpoint; each names the file and the tensor or setting at fault.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  case noWeights(folder: String)
  case ambiguousWeights(folder: String, files: [String])
  case file(SafetensorsError)
  case unknownLayout(path: String, sample: [String])
  case missingTensor(path: String, name: String)
  case shapeMismatch(path: String, name: String, expected: [Int], actual: [Int])
  case unexpectedTensor(path: String, name: String)
  case inconsistent(path: String, reason: String)
  case badConfig(path: String, reason: String)

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
