import Foundation
import VASafetensors

extension AttributionTarget {
  /// Reads a target embedding (`--target-embedding`): a safetensors file holding one tensor,
  /// `[D]` or `[1, D]`, of finite values not all zero (e.g. a text embedding computed with
  /// the model's text tower elsewhere), or a `vit-attend --dump` of another image, whose
  /// `embedding` tensor is used (so "where is what this image shows" needs no other tool).
  /// - Throws: `SafetensorsError` for an unreadable or malformed file,
  ///   `VisionAttentionError.badTargetEmbedding` when it does not hold one usable vector.
  public static func embedding(contentsOfFile path: String) throws -> AttributionTarget {
    let file = try SafetensorsFile(path: path)
    let dumped = file.tensors.count > 1 ? file.tensors.first { $0.name == "embedding" } : nil
    guard let info = dumped ?? (file.tensors.count == 1 ? file.tensors.first : nil) else {
      throw VisionAttentionError.badTargetEmbedding(path: path, reason: "holds \(file.tensors.count) tensors (\(file.tensorNames.joined(separator: ", "))) and none named embedding; give one vector")
    }
    guard info.shape.count == 1 || (info.shape.count == 2 && info.shape[0] == 1), info.elementCount > 0 else {
      throw VisionAttentionError.badTargetEmbedding(path: path, reason: "tensor \(info.name) is \(info.shape); give one vector, [D] or [1, D]")
    }
    let values = try file.floats(info.name)
    guard values.allSatisfy(\.isFinite), values.contains(where: { $0 != 0 }) else {
      throw VisionAttentionError.badTargetEmbedding(path: path, reason: "tensor \(info.name) is all zeros or not finite; its direction is undefined")
    }
    return .embedding(values)
  }
}
