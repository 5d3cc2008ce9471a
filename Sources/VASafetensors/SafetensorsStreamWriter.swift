#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a safetensors file one tensor at a time, so a file larger than memory never has to
/// be built in memory (`SafetensorsWriter` builds the whole file as bytes).
///
/// Every tensor's name, dtype and shape are declared up front, so the header (with every
/// byte range) is written first; then `write` is called once per tensor, in declared order.
/// Everything goes to a temporary file beside `path`, renamed over `path` by `finish()`, so
/// a failed or abandoned write leaves no partial file and the old one untouched.
/// Format: https://github.com/huggingface/safetensors (README, "Format"); the header is padded
/// with spaces to a multiple of 8 bytes, as `SafetensorsWriter` does.
public final class SafetensorsStreamWriter {
  /// One tensor of the file.
  public struct Entry: Sendable, Equatable {
    /// The tensor's name in the header.
    public var name: String
    /// `.f32` or `.i64`, the two element types `write` takes.
    public var dtype: SafetensorsDType
    /// The extents, outermost first.
    public var shape: [Int]

    /// Declares a tensor; preconditions check the dtype (`.f32` or `.i64`) and the extents (non-negative).
    public init(_ name: String, dtype: SafetensorsDType = .f32, shape: [Int]) {
      precondition(dtype == .f32 || dtype == .i64, "\(name): the stream writer writes F32 and I64, not \(dtype.rawValue)")
      precondition(shape.allSatisfy { $0 >= 0 }, "\(name): negative extent in \(shape)")
      self.name = name
      self.dtype = dtype
      self.shape = shape
    }

    /// The number of elements `write` must be given for this tensor.
    public var count: Int { shape.reduce(1, *) }
  }

  /// The file written; it appears only when `finish()` renames the temporary file over it.
  public let path: String
  /// The tensors declared, in the order `write` takes them.
  public let entries: [Entry]
  private let temporary: String
  private var file: UnsafeMutablePointer<FILE>?
  private var next = 0

  /// Creates the temporary file and writes the header.
  /// - Throws: `SafetensorsError.writeFailed` when the folder is missing or not writable.
  public init(path: String, entries: [Entry], metadata: [String: String] = [:]) throws(SafetensorsError) {
    precondition(Set(entries.map(\.name)).count == entries.count, "a tensor name appears twice in \(entries.map(\.name))")
    self.path = path
    self.entries = entries
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).\(UInt32.random(in: 0...UInt32.max)).tmp"
    guard let file = fopen(temporary, "wb") else { throw .writeFailed(path: path, reason: Self.lastError()) }
    self.file = file
    var fields: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\(SafetensorsWriter.quoted($0)):\(SafetensorsWriter.quoted(metadata[$0]!))" }
      fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    for entry in entries {
      let bytes = entry.count * entry.dtype.byteSize
      let shape = entry.shape.map(String.init).joined(separator: ",")
      fields.append("\(SafetensorsWriter.quoted(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
      offset += bytes
    }
    var header = Array("{\(fields.joined(separator: ","))}".utf8)
    while (8 + header.count) % 8 != 0 { header.append(0x20) }
    var prefix = [UInt8]()
    let length = UInt64(header.count)
    for shift in stride(from: 0, to: 64, by: 8) { prefix.append(UInt8(length >> UInt64(shift) & 0xFF)) }
    try put(prefix + header)
  }

  deinit {
    // Never finished: drop the partial file.
    if let file {
      fclose(file)
      unlink(temporary)
    }
  }

  /// The next declared tensor's values, `entries[next].count` of them, as F32.
  public func write(_ values: UnsafeBufferPointer<Float>) throws(SafetensorsError) {
    let entry = try expect(values.count, dtype: .f32)
    #if _endian(little)
      try put(UnsafeRawBufferPointer(values))
    #else
      try put(values.flatMap { v in (0..<4).map { UInt8(v.bitPattern >> UInt32(8 * $0) & 0xFF) } })
    #endif
    _ = entry
  }

  /// The next declared tensor's values, `entries[next].count` of them, as F32.
  /// - Throws: `SafetensorsError.writeFailed` when the write fails (disk full), the file is
  ///   finished or every declared tensor is written; a count or dtype that does not match
  ///   the next entry is a programmer error (a precondition).
  public func write(_ values: [Float]) throws(SafetensorsError) {
    // withUnsafeBufferPointer rethrows untyped errors: carry the typed one out by hand.
    var failure: SafetensorsError?
    values.withUnsafeBufferPointer { buffer in
      do throws(SafetensorsError) { try write(buffer) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// The next declared tensor's values as I64.
  public func write(integers values: [Int]) throws(SafetensorsError) {
    _ = try expect(values.count, dtype: .i64)
    var bytes = [UInt8]()
    bytes.reserveCapacity(values.count * 8)
    for value in values {
      let bits = UInt64(bitPattern: Int64(value))
      for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(bits >> UInt64(shift) & 0xFF)) }
    }
    try put(bytes)
  }

  /// Closes the file and renames it over `path`.
  /// - Throws: `SafetensorsError.writeFailed` when a declared tensor was not written or the
  ///   file could not be flushed or renamed (the temporary file is removed).
  public func finish() throws(SafetensorsError) {
    guard let file else { throw .writeFailed(path: path, reason: "already finished") }
    guard next == entries.count else {
      throw .writeFailed(path: path, reason: "tensor '\(entries[next].name)' and \(entries.count - next - 1) more were declared but not written")
    }
    self.file = nil
    let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
    let reason = Self.lastError()
    fclose(file)
    guard flushed else {
      unlink(temporary)
      throw .writeFailed(path: path, reason: reason)
    }
    if rename(temporary, path) != 0 {
      let reason = Self.lastError()
      unlink(temporary)
      throw .writeFailed(path: path, reason: reason)
    }
  }

  /// Checks the next tensor's size and type, and moves past it.
  private func expect(_ count: Int, dtype: SafetensorsDType) throws(SafetensorsError) -> Entry {
    guard file != nil else { throw .writeFailed(path: path, reason: "already finished") }
    guard next < entries.count else { throw .writeFailed(path: path, reason: "more tensors written than the \(entries.count) declared") }
    let entry = entries[next]
    precondition(
      entry.dtype == dtype && entry.count == count,
      "\(entry.name): declared \(entry.dtype.rawValue) \(entry.shape) (\(entry.count) values), written \(dtype.rawValue) with \(count)")
    next += 1
    return entry
  }

  private func put(_ bytes: [UInt8]) throws(SafetensorsError) {
    var failure: SafetensorsError?
    bytes.withUnsafeBytes { raw in
      do throws(SafetensorsError) { try put(raw) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  private func put(_ bytes: UnsafeRawBufferPointer) throws(SafetensorsError) {
    guard bytes.count > 0 else { return }
    guard let file, fwrite(bytes.baseAddress!, 1, bytes.count, file) == bytes.count else {
      throw .writeFailed(path: path, reason: Self.lastError())
    }
  }

  private static func lastError() -> String { String(cString: strerror(errno)) }
}
