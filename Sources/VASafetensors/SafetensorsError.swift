/// Errors reading a safetensors file; each names the file and, where it applies, the tensor.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case tooShort(path: String, bytes: Int)
  case headerTooLarge(path: String, length: UInt64, limit: Int)
  case headerPastEnd(path: String, length: UInt64, fileSize: Int)
  case invalidHeader(path: String, reason: String)
  case duplicateTensor(path: String, name: String)
  case unknownDType(path: String, tensor: String, dtype: String)
  case badShape(path: String, tensor: String, reason: String)
  case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
  case badOffsets(path: String, tensor: String, reason: String)
  case overlap(path: String, first: String, second: String)
  case uncoveredData(path: String, reason: String)
  case missingTensor(path: String, name: String)
  /// Writing (`SafetensorsStreamWriter`) failed.
  case writeFailed(path: String, reason: String)

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

/// Element types of a safetensors tensor.
public enum SafetensorsDType: String, Sendable, CaseIterable {
  case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
  case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
  case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

  public var byteSize: Int {
    switch self {
    case .f64, .i64, .u64: 8
    case .f32, .i32, .u32: 4
    case .f16, .bf16, .i16, .u16: 2
    case .i8, .u8, .bool: 1
    }
  }
}

/// Where a tensor sits in the file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
  public let name: String
  public let dtype: SafetensorsDType
  public let shape: [Int]
  /// Byte range inside the data section.
  public let begin: Int
  public let end: Int
  public var elementCount: Int { shape.reduce(1, *) }
}
