import Foundation
import VALayers
import VATensorCore

extension VisionTransformer {
  /// `D` and `P` of a ViT-style convolutional patch embedding, `[D, 3, P, P]`.
  static func convPatchShape(_ r: CheckpointReader, embeddings e: String) throws(CheckpointError) -> (dimension: Int, patchSize: Int) {
    guard let projection = r.shape(e + "patch_embedding.weight"), projection.count == 4, projection[1] == 3, projection[2] == projection[3] else {
      throw .inconsistent(path: r.path, reason: "\(e)patch_embedding.weight must be [D, 3, P, P]")
    }
    return (projection[0], projection[2])
  }

  /// `D` and `P` of SigLIP-2's linear patch embedding, `[D, P·P·3]`: `P` is the config's
  /// `patch_size` (the flattened weight cannot tell 3·P² apart from another channel count).
  static func siglip2PatchShape(_ r: CheckpointReader, embeddings e: String, config: [String: Any]) throws(CheckpointError) -> (dimension: Int, patchSize: Int) {
    guard let p = integer(config["patch_size"]), p > 0 else {
      throw .badConfig(path: r.path, reason: "SigLIP-2 config gives no patch_size (its patch embedding is a Linear over flattened patches)")
    }
    guard let projection = r.shape(e + "patch_embedding.weight"), projection.count == 2, projection[1] == 3 * p * p else {
      throw .inconsistent(path: r.path, reason: "\(e)patch_embedding.weight must be [D, \(3 * p * p)] for patch_size \(p), got \(r.shape(e + "patch_embedding.weight") ?? [])")
    }
    if let rows = r.shape(e + "position_embedding.weight")?.first, let n = integer(config["num_patches"]), n != rows {
      throw .inconsistent(path: r.path, reason: "config num_patches = \(n) but \(e)position_embedding.weight has \(rows) rows")
    }
    return (projection[0], p)
  }

  /// SigLIP-2's patch weight `[D, P·P·3]`, whose inputs are pixels with channels fastest
  /// (`Siglip2ImageProcessor`'s `convert_image_to_patches`: patch row, patch column, channel),
  /// reordered to `PatchEmbedding`'s channel-major `[D, 3·P·P]` (a convolution's layout): the
  /// same products, summed in another order.
  static func siglip2PatchWeight(_ r: CheckpointReader, embeddings e: String, dimension d: Int, patchSize p: Int) throws(CheckpointError) -> Tensor {
    try r.tensor(e + "patch_embedding.weight", [d, 3 * p * p]).reshaped([d, p, p, 3]).permuted([0, 3, 1, 2]).reshaped([d, 3 * p * p])
  }

  /// `max_num_patches` of `Siglip2ImageProcessor` (256, transformers' default, when no
  /// preprocessor config gives it, with a note), checked against what the resize reproduces:
  /// `resample` 2 (bilinear, the default), the model's patch size, resizing, rescaling by 1/255
  /// and normalising on. transformers 5.25's `AutoImageProcessor` gives the torchvision
  /// processor whatever `image_processor_type` says (`Siglip2ImageProcessor`, `…Fast` or
  /// `…Pil`), so its uint8 resize is the one reproduced (`Image.torchvisionResized`).
  static func siglip2MaximumPatches(_ preprocessor: [String: Any]?, patchSize p: Int, path: String, notes: inout [String]) throws(CheckpointError) -> Int {
    guard let preprocessor else {
      notes.append("max_num_patches inferred as 256, Siglip2ImageProcessor's default (no preprocessor_config.json gives it)")
      return 256
    }
    if let size = integer(preprocessor["patch_size"]), size != p {
      throw .inconsistent(path: path, reason: "preprocessor_config.json patch_size = \(size) but the model's patches are \(p) pixels")
    }
    if let resample = preprocessor["resample"], integer(resample) != 2 {
      // Only the processor's default bilinear resize is reproduced (torchvision's uint8 path).
      throw .badConfig(path: path, reason: "preprocessor_config.json resample = \(resample) is not implemented (2, bilinear, is Siglip2ImageProcessor's)")
    }
    // The steps this toolkit runs: resize on, rescale by 1/255, normalise (mean and std are read by the caller).
    for (key, expected) in [("do_resize", true), ("do_rescale", true), ("do_normalize", true)] {
      if let value = preprocessor[key] as? Bool, value != expected {
        throw .badConfig(path: path, reason: "preprocessor_config.json \(key) = \(value) is not implemented (Siglip2ImageProcessor's default is \(expected))")
      }
    }
    if let factor = preprocessor["rescale_factor"] as? Double, abs(factor - 1.0 / 255) > 1e-12 {
      throw .badConfig(path: path, reason: "preprocessor_config.json rescale_factor = \(factor) is not implemented (1/255)")
    }
    guard let n = integer(preprocessor["max_num_patches"] ?? 256), n > 0 else {
      throw .badConfig(path: path, reason: "preprocessor_config.json max_num_patches = \(preprocessor["max_num_patches"] ?? "") is not a positive whole number")
    }
    if preprocessor["max_num_patches"] == nil { notes.append("max_num_patches inferred as 256, Siglip2ImageProcessor's default") }
    return n
  }
}
