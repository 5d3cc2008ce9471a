import CVAImageCodecs
import Foundation

/// How hard zlib works on a PNG's pixels: the same pixels either way, a trade of time for size.
public enum PNGCompression: Int32, Sendable, CaseIterable {
  /// zlib level 1: about 2-3x faster than `.standard` on this toolkit's figures, for files
  /// 10-15% larger. The default: a figure is written once and looked at.
  case fast = 1
  /// zlib level 6, zlib's and libpng's default.
  case standard = 6
  /// zlib level 9.
  case smallest = 9
}

extension Image {
  /// The image encoded as an 8-bit PNG, with `text` as text chunks: ASCII values as tEXt,
  /// others (file and class names in any script) as UTF-8 iTXt, since tEXt is Latin-1. Keys
  /// are 1-79 Latin-1 characters; used to record the parameters that made a figure.
  public func pngData(text: [(key: String, value: String)] = [], compression: PNGCompression = .fast) throws(ImageIOError) -> [UInt8] {
    var buffer = cva_buffer()
    var message = [CChar](repeating: 0, count: Int(CVA_MESSAGE_CAPACITY))
    // strdup'd so the C strings outlive the call; freed below.
    let keys = text.map { strdup($0.key) }
    let values = text.map { strdup($0.value) }
    defer {
      keys.forEach { free($0) }
      values.forEach { free($0) }
    }
    let status = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { keyPointers in
      values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
        cva_png_encode(
          pixels, UInt32(width), UInt32(height), UInt32(channels),
          keyPointers.baseAddress, valuePointers.baseAddress, text.count, compression.rawValue, &buffer, &message)
      }
    }
    defer { cva_free(buffer.bytes) }
    guard status == CVA_STATUS_OK else {
      throw .writeFailed(path: "<memory>", reason: "PNG encoder: " + String(cString: message))
    }
    return [UInt8](UnsafeBufferPointer(start: buffer.bytes, count: buffer.count))
  }

  /// Writes the image as a PNG through a temporary file in the same folder, renamed into
  /// place, so a failure never leaves a partial file at `path`.
  public func writePNG(to path: String, text: [(key: String, value: String)] = [], compression: PNGCompression = .fast) throws(ImageIOError) {
    let bytes: [UInt8]
    do {
      bytes = try pngData(text: text, compression: compression)
    } catch {
      throw .writeFailed(path: path, reason: "\(error)")
    }
    try AtomicFile.write(bytes, to: path)
  }
}

/// Writes files through a temporary sibling and a rename.
public enum AtomicFile {
  /// Writes `bytes` to `path` atomically: either the whole new file is there or the old
  /// state is untouched.
  public static func write(_ bytes: [UInt8], to path: String) throws(ImageIOError) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw .writeFailed(path: path, reason: "folder \(folder.path) does not exist")
    }
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
    do {
      try Data(bytes).write(to: temporary)
      if rename(temporary.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw ImageIOError.writeFailed(path: path, reason: reason)
      }
    } catch let error as ImageIOError {
      throw error
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw .writeFailed(path: path, reason: (error as NSError).localizedDescription)
    }
  }
}
