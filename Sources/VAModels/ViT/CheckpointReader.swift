import Foundation
import VALayers
import VASafetensors
import VATensorCore

/// Reads named tensors from a safetensors file with shape checks, and remembers which were
/// used, so tensors nobody asked for can be reported instead of silently ignored.
final class CheckpointReader {
  let file: SafetensorsFile
  private(set) var used = Set<String>()

  /// Names a loader asks for → the names stored, for a layout that differs from timm's in a
  /// few names only (NaFlexVit's `embeds.cls_token` for `cls_token`).
  var aliases: [String: String] = [:]

  init(_ file: SafetensorsFile) { self.file = file }

  /// The reader of `path`'s weights (a `.safetensors` file, or the one a folder holds:
  /// `VisionTransformer.resolveWeights`) and the folder its config files sit in; every loader
  /// (ViT, Swin, DETR) opens its checkpoint here.
  /// - Throws: `CheckpointError.file` for a file that is missing or not safetensors.
  static func open(_ path: String) throws(CheckpointError) -> (reader: CheckpointReader, folder: String) {
    let weights = try VisionTransformer.resolveWeights(path)
    do throws(SafetensorsError) {
      return (CheckpointReader(try SafetensorsFile(path: weights)), (weights as NSString).deletingLastPathComponent)
    } catch {
      throw .file(error)
    }
  }

  /// The tensor names of `path`'s weights, nil for anything unreadable: how a caller tells a
  /// checkpoint's family from its header alone.
  static func tensorNames(at path: String) -> Set<String>? {
    (try? open(path)).map { Set($0.reader.file.tensorNames) }
  }

  var path: String { file.path }
  func has(_ name: String) -> Bool { file.info(aliases[name] ?? name) != nil }
  func shape(_ name: String) -> [Int]? { file.info(aliases[name] ?? name)?.shape }

  /// `NAME.weight` `[outputs, inputs]` and, when the checkpoint has it, `NAME.bias` `[outputs]`.
  func linear(_ name: String, _ outputs: Int, _ inputs: Int) throws(CheckpointError) -> Linear {
    Linear(weight: try tensor(name + ".weight", [outputs, inputs]), bias: try optional(name + ".bias", [outputs]))
  }

  /// `NAME.weight` and `NAME.bias`, `[width]` each, as a LayerNorm with `eps`; with `.rms`
  /// `NAME.weight` only (timm's RmsNorm has no bias).
  func layerNorm(_ name: String, width: Int, eps: Float, kind: LayerNorm.Kind = .layer) throws(CheckpointError) -> LayerNorm {
    LayerNorm(kind: kind, weight: try tensor(name + ".weight", [width]), bias: kind == .layer ? try tensor(name + ".bias", [width]) : nil, eps: eps)
  }

  /// The tensor `name` reshaped to `storedAs` → `shape`; the stored shape must be `storedAs`
  /// (or `shape` when not given).
  func tensor(_ name: String, _ shape: [Int], storedAs: [Int]? = nil) throws(CheckpointError) -> Tensor {
    let name = aliases[name] ?? name
    guard let info = file.info(name) else { throw .missingTensor(path: path, name: name) }
    let expected = storedAs ?? shape
    guard info.shape == expected else { throw .shapeMismatch(path: path, name: name, expected: expected, actual: info.shape) }
    used.insert(name)
    do throws(SafetensorsError) {
      return Tensor(shape: shape, scalars: try file.floats(name))
    } catch {
      throw .file(error)
    }
  }

  func optional(_ name: String, _ shape: [Int], storedAs: [Int]? = nil) throws(CheckpointError) -> Tensor? {
    has(name) ? try tensor(name, shape, storedAs: storedAs) : nil
  }

  /// Marks tensors that are known and deliberately unused.
  func ignore(where predicate: (String) -> Bool) {
    for name in file.tensorNames where predicate(name) { used.insert(name) }
  }

  /// Throws for the first tensor that was never read or ignored.
  func checkAllUsed() throws(CheckpointError) {
    if let stray = file.tensorNames.first(where: { !used.contains($0) }) { throw .unexpectedTensor(path: path, name: stray) }
  }

  /// Indices `i` for which a tensor name starts with `prefix + "i."`.
  func indices(after prefix: String) -> Int {
    var count = 0
    while file.tensorNames.contains(where: { $0.hasPrefix("\(prefix)\(count).") }) { count += 1 }
    return count
  }
}

/// A JSON config file as a dictionary, or nil when absent.
func readJSON(_ path: String) throws(CheckpointError) -> [String: Any]? {
  guard FileManager.default.fileExists(atPath: path) else { return nil }
  guard let data = FileManager.default.contents(atPath: path),
    let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any]
  else { throw .badConfig(path: path, reason: "not a JSON object") }
  return dictionary
}

/// `value` as an integer, accepting JSON numbers of any kind.
func integer(_ value: Any?) -> Int? {
  if let n = value as? Int { return n }
  if let n = value as? Double, n == n.rounded() { return Int(n) }
  return nil
}

func floats(_ value: Any?) -> [Float]? {
  guard let array = value as? [Any] else { return nil }
  let numbers = array.compactMap { ($0 as? Double).map(Float.init) ?? ($0 as? Int).map(Float.init) }
  return numbers.count == array.count ? numbers : nil
}
