import Foundation

/// zlib's CRC-32 (polynomial 0xEDB88320), for comparing pixels with reference checksums.
func crc32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
  var table = [UInt32](repeating: 0, count: 256)
  for i in 0..<256 {
    var c = UInt32(i)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    table[i] = c
  }
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
  return crc ^ 0xFFFF_FFFF
}

/// Path of a file under Tests/VAImageIOTests/Fixtures.
func fixture(_ relative: String) -> String {
  Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
}

/// Path of a file in the repository (for the sample images in images/).
func repositoryFile(_ relative: String, testFile: String = #filePath) -> String {
  URL(fileURLWithPath: testFile).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(relative).path
}

/// Lines `name: fields…` of a reference file, skipping comments.
func referenceLines(_ relative: String) throws -> [(name: String, fields: [String])] {
  let text = try String(contentsOfFile: fixture(relative), encoding: .utf8)
  return text.split(separator: "\n").compactMap { line in
    guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { return nil }
    let fields = line[line.index(after: colon)...].split(separator: " ").map(String.init)
    return (String(line[..<colon]), fields)
  }
}

/// A scratch folder removed when the test ends.
struct ScratchFolder: ~Copyable {
  let path: String
  init() {
    path = NSTemporaryDirectory() + "imageio-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}
