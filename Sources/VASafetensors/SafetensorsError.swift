/// Errors reading a safetensors file; each names the file and, where it applies, the tensor.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
  /// The file could not be opened or mapped (missing, a folder, no permission).
  case unreadable(path: String, reason: String)
  /// The file is shorter than the 8-byte header length that starts every safetensors file.
  case tooShort(path: String, bytes: Int)
  /// The header length is over `SafetensorsFile.maxHeaderBytes`.
  case headerTooLarge(path: String, length: UInt64, limit: Int)
  /// The header length reaches past the end of the file.
  case headerPastEnd(path: String, length: UInt64, fileSize: Int)
  /// The header is not a UTF-8 JSON object of tensor entries (the reason says where it fails).
  case invalidHeader(path: String, reason: String)
  /// Two header entries share a name.
  case duplicateTensor(path: String, name: String)
  /// A tensor's dtype is none of `SafetensorsDType`'s.
  case unknownDType(path: String, tensor: String, dtype: String)
  /// A tensor's shape has a negative extent, or its element or byte count overflows.
  case badShape(path: String, tensor: String, reason: String)
  /// A tensor's `data_offsets` span a different number of bytes than its shape and dtype need.
  case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
  /// A tensor's `data_offsets` are not an ordered pair inside the data section.
  case badOffsets(path: String, tensor: String, reason: String)
  /// Two tensors' byte ranges overlap.
  case overlap(path: String, first: String, second: String)
  /// The tensors' byte ranges leave a gap in the data section or do not reach its end.
  case uncoveredData(path: String, reason: String)
  /// A tensor asked for by name is not in the file.
  case missingTensor(path: String, name: String)
  /// Writing (`SafetensorsStreamWriter`) failed.
  case writeFailed(path: String, reason: String)

  /// The error as one line starting with the file's path, with the values observed.
  public var description: String {
    switch self {
    case .unreadable(let p, let r): "\(p): cannot read: \(r)"
    case .tooShort(let p, let n): "\(p): not a safetensors file: \(n) bytes, fewer than the 8-byte header length"
    case .headerTooLarge(let p, let l, let limit): "\(p): header claims \(l) bytes, over the \(limit)-byte limit"
    case .headerPastEnd(let p, let l, let size): "\(p): header claims \(l) bytes but the file has \(size)"
    case .invalidHeader(let p, let r): "\(p): invalid header: \(r)"
    case .duplicateTensor(let p, let n): "\(p): tensor '\(n)' appears twice in the header"
    case .unknownDType(let p, let t, let d): "\(p): tensor '\(t)' has unknown dtype '\(d)'"
    case .badShape(let p, let t, let r): "\(p): tensor '\(t)' has a bad shape: \(r)"
    case .sizeMismatch(let p, let t, let e, let a): "\(p): tensor '\(t)' needs \(e) bytes for its shape and dtype but its offsets span \(a)"
    case .badOffsets(let p, let t, let r): "\(p): tensor '\(t)' has bad data_offsets: \(r)"
    case .overlap(let p, let a, let b): "\(p): tensors '\(a)' and '\(b)' overlap"
    case .uncoveredData(let p, let r): "\(p): data section not covered exactly: \(r)"
    case .missingTensor(let p, let n): "\(p): no tensor named '\(n)'"
    case .writeFailed(let p, let r): "\(p): could not write: \(r)"
    }
  }
}
