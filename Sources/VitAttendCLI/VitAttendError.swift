/// Errors of the `vit-attend` command itself; library errors (images, weights) pass through
/// with their own messages.
enum VitAttendError: Error, Equatable, CustomStringConvertible {
  case imageTooSmall(width: Int, height: Int, patchSize: Int)
  case noImages(folder: String)
  case notFound(path: String)
  case wouldOverwriteInput(path: String)
  case duplicateOutputName(output: String, first: String, second: String)
  case queryOutsideImage(x: Int, y: Int, width: Int, height: Int)
  case layerOutOfRange(layer: Int, layers: Int)
  case headOutOfRange(head: Int, heads: Int)
  case needsClassToken(map: String)
  case writeFailed(path: String, reason: String)
  case needsOneImage(images: Int)
  case missingResource(name: String)
  case needsFullAttention(what: String, values: Int, limit: Int)

  var description: String {
    switch self {
    case .imageTooSmall(let w, let h, let p):
      "image is \(w)x\(h) pixels after resizing, smaller than one \(p)-pixel patch"
    case .noImages(let folder):
      "\(folder): folder holds no .png, .jpg or .jpeg files"
    case .notFound(let path):
      "\(path): no such file or folder"
    case .wouldOverwriteInput(let path):
      "\(path): refusing to write over an input image"
    case .duplicateOutputName(let output, let first, let second):
      "\(first) and \(second) would both be written to \(output); rename one or run them separately"
    case .queryOutsideImage(let x, let y, let w, let h):
      "--query \(x),\(y) is outside the \(w)x\(h) image"
    case .layerOutOfRange(let layer, let layers):
      "--layer \(layer) is out of range: the model has \(layers) layers (0...\(layers - 1))"
    case .headOutOfRange(let head, let heads):
      "--head \(head) is out of range: the model has \(heads) heads (0...\(heads - 1))"
    case .needsClassToken(let map):
      "--map \(map) needs a model with a class token; this model has none (try --map query or rollout)"
    case .needsOneImage(let images):
      "--out, --html and --dump take one image, got \(images); use --out-dir for several"
    case .missingResource(let name):
      "\(name): missing from vit-attend's resource bundle; reinstall it with its .resources folder"
    case .needsFullAttention(let what, let values, let limit):
      "\(what) needs every layer's full attention matrix, \(values) values here, above the \(limit) kept in full (raise --full-attention-limit, or use a smaller image)"
    case .writeFailed(let path, let reason):
      "\(path): could not write: \(reason)"
    }
  }
}
