import Foundation
import VATestSupport

/// The shared runner (Tests/VATestSupport), named here so this target's tests need not
/// import VATestSupport themselves.
typealias CommandRunner = VATestSupport.CommandRunner

/// A scratch folder removed when the test ends.
final class ScratchFolder {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "vit-attend-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
  var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The text chunks of a PNG file: tEXt (Latin-1) and uncompressed iTXt (UTF-8).
func pngText(_ path: String) throws -> [String: String] {
  let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  var chunks: [String: String] = [:]
  var offset = 8
  while offset + 8 <= bytes.count {
    let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
    let data = bytes[(offset + 8)..<(offset + 8 + length)]
    if type == "tEXt", let zero = data.firstIndex(of: 0) {
      chunks[String(decoding: data[..<zero], as: UTF8.self)] = String(data[(zero + 1)...].map { Character(Unicode.Scalar($0)) })
    }
    // iTXt: keyword, 0, compression flag, method, language tag, 0, translated keyword, 0, text.
    if type == "iTXt", let zero = data.firstIndex(of: 0), data[zero + 1] == 0 {
      let language = data[(zero + 3)...].firstIndex(of: 0)!
      let translated = data[(language + 1)...].firstIndex(of: 0)!
      chunks[String(decoding: data[..<zero], as: UTF8.self)] = String(decoding: data[(translated + 1)...], as: UTF8.self)
    }
    offset += 12 + length
  }
  return chunks
}
