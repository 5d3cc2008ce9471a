import Foundation

/// A safetensors file, memory-mapped and validated when opened; tensors are converted to
/// `Float` only when asked for, so a large checkpoint is never held twice.
///
/// Validation: header length at most 100 MB and inside the file; valid UTF-8 JSON object; no
/// duplicate names; known dtypes; non-negative integer shapes whose element and byte counts
/// do not overflow; `data_offsets` ordered, inside the data section, exactly the size the
/// shape and dtype need, not overlapping, and together covering the data section exactly.
/// Format: https://github.com/huggingface/safetensors (README, "Format").
public final class SafetensorsFile: @unchecked Sendable {
  /// The largest header accepted, 100 MB (the limit of the reference implementation).
  public static let maxHeaderBytes = 100_000_000

  /// The path the file was opened from; every error names it.
  public let path: String
  /// Tensors in header order.
  public let tensors: [SafetensorsTensorInfo]
  /// The header's `__metadata__` string pairs (empty when it has none).
  public let metadata: [String: String]
  private let index: [String: Int]
  private let mapping: Mapping

  /// The tensors' names in header order.
  public var tensorNames: [String] { tensors.map(\.name) }

  /// The named tensor's dtype, shape and byte range, or nil if the file has no such tensor.
  public func info(_ name: String) -> SafetensorsTensorInfo? { index[name].map { tensors[$0] } }

  /// Opens, maps and validates the file at `path`; no tensor data is converted yet.
  ///
  /// - Throws: `SafetensorsError` naming the file and the first rule the header breaks.
  public init(path: String) throws(SafetensorsError) {
    self.path = path
    mapping = try Mapping(path: path)
    let bytes = mapping.bytes
    guard bytes.count >= 8 else { throw .tooShort(path: path, bytes: bytes.count) }
    let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
    guard length <= UInt64(Self.maxHeaderBytes) else { throw .headerTooLarge(path: path, length: length, limit: Self.maxHeaderBytes) }
    guard length <= UInt64(bytes.count - 8) else { throw .headerPastEnd(path: path, length: length, fileSize: bytes.count) }
    let headerEnd = 8 + Int(length)
    let json: HeaderJSON
    do throws(HeaderJSON.ParseError) {
      json = try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<headerEnd]))
    } catch {
      throw .invalidHeader(path: path, reason: error.reason)
    }
    let parsed = try Self.entries(json, path: path, dataBytes: bytes.count - headerEnd)
    tensors = parsed.tensors
    metadata = parsed.metadata
    index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($0.element.name, $0.offset) })
    dataStart = headerEnd
  }

  private let dataStart: Int

  /// The tensor's elements converted to Float32 (F16 and BF16 exactly; integers by value).
  public func floats(_ name: String) throws(SafetensorsError) -> [Float] {
    guard let info = info(name) else { throw .missingTensor(path: path, name: name) }
    let raw = UnsafeRawBufferPointer(rebasing: mapping.bytes[(dataStart + info.begin)..<(dataStart + info.end)])
    // Once converted, the mapped pages are not needed: let the kernel drop them, so loading
    // a checkpoint holds one copy of the weights (the Float arrays), not two.
    defer { mapping.release(from: dataStart + info.begin, to: dataStart + info.end) }
    let n = info.elementCount
    func load<T>(_ type: T.Type, _ convert: (T) -> Float) -> [Float] {
      (0..<n).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: type)) }
    }
    switch info.dtype {
    case .f32:
      #if _endian(little)
        // The stored bytes already are Float32 in this host's order: one memcpy from the
        // mapping, no per-element conversion (only the other dtypes are converted).
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
          let destination = UnsafeMutableRawBufferPointer(buffer)
          // Fault both sides in with one call each rather than one trap per 4 KiB page
          // (a ViT-S checkpoint is 21,000 pages); a kernel without these hints (before
          // Linux 5.14) refuses them and the copy faults page by page as before.
          Mapping.prefault(UnsafeMutableRawBufferPointer(mutating: raw), writing: false)
          Mapping.prefault(destination, writing: true)
          destination.copyMemory(from: raw)
          initialized = n
        }
      #else
        return load(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
      #endif
    case .f64: return load(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
    case .f16: return load(UInt16.self) { Float(Float16(bitPattern: UInt16(littleEndian: $0))) }
    case .bf16: return load(UInt16.self) { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
    case .i64: return load(Int64.self) { Float(Int64(littleEndian: $0)) }
    case .i32: return load(Int32.self) { Float(Int32(littleEndian: $0)) }
    case .i16: return load(Int16.self) { Float(Int16(littleEndian: $0)) }
    case .i8: return load(Int8.self) { Float($0) }
    case .u64: return load(UInt64.self) { Float(UInt64(littleEndian: $0)) }
    case .u32: return load(UInt32.self) { Float(UInt32(littleEndian: $0)) }
    case .u16: return load(UInt16.self) { Float(UInt16(littleEndian: $0)) }
    case .u8, .bool: return load(UInt8.self) { Float($0) }
    }
  }
}
