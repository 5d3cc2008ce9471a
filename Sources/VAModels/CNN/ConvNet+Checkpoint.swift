import Foundation
import VASafetensors
import VATensorCore

extension ConvNet {
  /// Saves every parameter and buffer (`namedParameters` then `namedBuffers`, names as
  /// documented on `ConvNet`) to one safetensors file, F32, written to a temporary name and
  /// renamed into place. The configuration is not stored: a checkpoint loads into a network
  /// built from the same configuration, as PyTorch's `load_state_dict`.
  public func save(to path: String) throws {
    var writer = SafetensorsWriter()
    writer.metadata = ["format": "pt", "written_by": "VisionAttention"]
    for (name, tensor) in namedParameters + namedBuffers { writer.add(name, shape: tensor.shape, values: tensor.scalars) }
    try Data(writer.serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  /// Replaces every parameter's and buffer's values with the file's (written by `save(to:)`
  /// or a PyTorch `state_dict` with the same names; `num_batches_tracked` is ignored).
  ///
  /// Values are copied into the existing tensors, so anything sharing them (an optimiser)
  /// sees the loaded values.
  /// - Throws: `CheckpointError` for an unreadable file, a missing tensor, a shape that
  ///   differs from this network's, or a tensor this network does not have; on a throw no
  ///   tensor has been changed.
  public mutating func load(from path: String) throws(CheckpointError) {
    let file: SafetensorsFile
    do throws(SafetensorsError) { file = try SafetensorsFile(path: path) } catch { throw .file(error) }
    let reader = CheckpointReader(file)
    reader.ignore { $0.hasSuffix(".num_batches_tracked") }
    let targets = namedParameters + namedBuffers
    // Read and check everything first, so a bad file leaves the network untouched.
    var values: [[Float]] = []
    for (name, tensor) in targets { values.append(try reader.tensor(name, tensor.shape).scalars) }
    try reader.checkAllUsed()
    for ((_, tensor), scalars) in zip(targets, values) { tensor.scalars = scalars }
  }
}
