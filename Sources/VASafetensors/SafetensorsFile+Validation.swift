import Foundation

extension SafetensorsFile {
  /// The header's tensors and metadata, every field checked.
  static func entries(_ json: HeaderJSON, path: String, dataBytes: Int) throws(SafetensorsError) -> (tensors: [SafetensorsTensorInfo], metadata: [String: String]) {
    guard case .object(let members) = json else { throw .invalidHeader(path: path, reason: "header is not a JSON object") }
    var seen = Set<String>()
    var tensors: [SafetensorsTensorInfo] = []
    var metadata: [String: String] = [:]
    for (name, value) in members {
      guard seen.insert(name).inserted else { throw .duplicateTensor(path: path, name: name) }
      if name == "__metadata__" {
        guard case .object(let pairs) = value else { throw .invalidHeader(path: path, reason: "__metadata__ is not an object") }
        for (key, entry) in pairs {
          guard case .string(let text) = entry else { throw .invalidHeader(path: path, reason: "__metadata__ value for '\(key)' is not a string") }
          metadata[key] = text
        }
        continue
      }
      tensors.append(try tensor(name, value, path: path, dataBytes: dataBytes))
    }
    // Offsets must tile the data section: sorted by start, each begins where the last ended.
    var cursor = 0
    var previous = ""
    for tensor in tensors.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
      if tensor.begin < cursor { throw .overlap(path: path, first: previous, second: tensor.name) }
      if tensor.begin > cursor { throw .uncoveredData(path: path, reason: "bytes \(cursor)..<\(tensor.begin) belong to no tensor") }
      cursor = tensor.end
      previous = tensor.name
    }
    if cursor != dataBytes { throw .uncoveredData(path: path, reason: "tensors end at byte \(cursor) of a \(dataBytes)-byte data section") }
    return (tensors, metadata)
  }

  private static func tensor(_ name: String, _ value: HeaderJSON, path: String, dataBytes: Int) throws(SafetensorsError) -> SafetensorsTensorInfo {
    guard case .object(let fields) = value else { throw .invalidHeader(path: path, reason: "entry '\(name)' is not an object") }
    func field(_ key: String) -> HeaderJSON? { fields.first { $0.key == key }?.value }
    guard case .string(let dtypeName) = field("dtype") else { throw .invalidHeader(path: path, reason: "tensor '\(name)' has no dtype string") }
    guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw .unknownDType(path: path, tensor: name, dtype: dtypeName) }
    guard case .array(let dims) = field("shape") else { throw .badShape(path: path, tensor: name, reason: "missing or not an array") }
    var shape: [Int] = []
    var elements = 1
    for dim in dims {
      guard case .integer(let extent) = dim, extent >= 0 else { throw .badShape(path: path, tensor: name, reason: "extents must be non-negative integers") }
      let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
      guard !overflow else { throw .badShape(path: path, tensor: name, reason: "element count overflows") }
      elements = product
      shape.append(extent)
    }
    let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
    guard !overflow else { throw .badShape(path: path, tensor: name, reason: "byte count overflows") }
    guard case .array(let offsets) = field("data_offsets"), offsets.count == 2,
      case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1]
    else { throw .badOffsets(path: path, tensor: name, reason: "need two integers [begin, end]") }
    guard begin >= 0, begin <= end else { throw .badOffsets(path: path, tensor: name, reason: "[\(begin), \(end)] is not an ordered range") }
    guard end <= dataBytes else { throw .badOffsets(path: path, tensor: name, reason: "end \(end) is past the \(dataBytes)-byte data section") }
    guard end - begin == bytes else { throw .sizeMismatch(path: path, tensor: name, expected: bytes, actual: end - begin) }
    return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
  }
}

/// A read-only memory mapping of a whole file (or an empty buffer for an empty file).
final class Mapping {
  let bytes: UnsafeRawBufferPointer

  init(path: String) throws(SafetensorsError) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .unreadable(path: path, reason: "no such file") }
    guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "it is a folder") }
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    let size = Int(status.st_size)
    if size == 0 {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
      throw .unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    bytes = UnsafeRawBufferPointer(start: address, count: size)
  }

  /// Populates the page tables of the whole pages inside `region` in one system call
  /// (`MADV_POPULATE_READ` or `_WRITE`, Linux 5.14); a no-op where the kernel refuses.
  static func prefault(_ region: UnsafeMutableRawBufferPointer, writing: Bool) {
    #if os(Linux)
      guard let base = region.baseAddress, region.count > 0 else { return }
      let page = Int(sysconf(Int32(_SC_PAGESIZE)))
      let start = (Int(bitPattern: base) + page - 1) / page * page, end = (Int(bitPattern: base) + region.count) / page * page
      guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(address, end - start, writing ? 23 : 22)  // MADV_POPULATE_WRITE : MADV_POPULATE_READ
    #endif
  }

  /// Drops the whole pages inside byte range `from..<to` from memory; reading them again
  /// faults them back in from the file (a private, read-only mapping).
  func release(from: Int, to: Int) {
    guard let base = bytes.baseAddress else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (from + page - 1) / page * page, end = to / page * page
    guard end > start else { return }
    madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
  }

  deinit {
    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
  }
}
