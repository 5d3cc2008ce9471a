import Foundation
import Testing
@testable import VASafetensors

/// A file written by the Python safetensors library (Scripts/reference/safetensors_fixtures.py).
struct ReadingTests {
  let path = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/dtypes.safetensors").path

  @Test func everyDTypeConvertsExactly() throws {
    let file = try SafetensorsFile(path: path)
    #expect(file.metadata == ["format": "pt", "note": "fixture"])
    #expect(file.info("f32")?.shape == [2, 3] && file.info("scalar")?.shape == [] && file.info("empty")?.shape == [0, 3])
    let f32 = try file.floats("f32")
    #expect(f32[0] == 1.5 && f32[1] == -2.25 && f32[2] == 3.0e-38 && f32[3] == .infinity && f32[4].sign == .minus && f32[5] == 1e30)
    // Float16: the smallest subnormal, a negative subnormal, the largest finite value, inf.
    #expect(try file.floats("f16") == [Float(Float16(bitPattern: 1)), -6.097555160522461e-05, 65504, .infinity, -1, 0.3330078125])
    #expect(try file.floats("bf16") == [9.969209968386869e+37, -2.9938371747505135e-38, 0.5, -7.25])
    #expect(try file.floats("f64") == [0, 2.5])  // 1e-300 underflows Float32
    #expect(try file.floats("i64") == [-1_099_511_627_776, 7])
    #expect(try file.floats("i32") == [-2_147_483_648, 2_147_483_647])
    #expect(try file.floats("i16") == [-32768, 32767] && file.floats("i8") == [-128, 127] && file.floats("u8") == [0, 255])
    #expect(try file.floats("bool") == [1, 0, 1] && file.floats("empty") == [] && file.floats("scalar") == [4])
    #expect(throws: SafetensorsError.missingTensor(path: path, name: "nope")) { try file.floats("nope") }
  }

  @Test func writerOutputReadsBack() throws {
    var writer = SafetensorsWriter()
    writer.metadata = ["model": "test \"quoted\""]
    writer.add("b.weight", shape: [2, 2], values: [1, 2, 3, 4])
    writer.add("a", shape: [3], values: [-1, 0.5, .infinity])
    let bytes = writer.serialized()
    let header = Int(bytes[0]) | Int(bytes[1]) << 8
    #expect((8 + header) % 8 == 0)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data(bytes).write(to: url)
    let file = try SafetensorsFile(path: url.path)
    #expect(file.tensorNames == ["b.weight", "a"])
    #expect(try file.floats("b.weight") == [1, 2, 3, 4] && file.floats("a") == [-1, 0.5, .infinity])
    #expect(file.metadata == ["model": "test \"quoted\""])
  }
}

/// One test per malformed-file case, built from bytes.
struct MalformedFileTests {
  /// A file with `header` as its JSON header and `data` as its data section.
  func file(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) throws -> String {
    let json = Array(header.utf8)
    let length = lengthOverride ?? UInt64(json.count)
    let bytes = (0..<8).map { UInt8(length >> (8 * UInt64($0)) & 0xFF) } + json + data
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("malformed-\(UUID().uuidString).safetensors")
    try Data(bytes).write(to: url)
    return url.path
  }

  func expectError(_ path: String, mentioning text: String, _ matches: (SafetensorsError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
      _ = try SafetensorsFile(path: path)
      Issue.record("opened without an error", sourceLocation: sourceLocation)
    } catch {
      #expect(matches(error), "wrong case: \(error)", sourceLocation: sourceLocation)
      #expect(error.description.contains(text) && error.description.hasPrefix(path), "\(error)", sourceLocation: sourceLocation)
    }
  }

  let four: [UInt8] = [0, 0, 128, 63]  // 1.0 as F32

  @Test func shorterThanTheLengthField() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString)")
    try Data([1, 2, 3]).write(to: url)
    expectError(url.path, mentioning: "3 bytes") { if case .tooShort = $0 { true } else { false } }
  }

  @Test func headerOverTheLimit() throws {
    expectError(try file("{}", lengthOverride: 200_000_000), mentioning: "over the 100000000-byte limit") { if case .headerTooLarge = $0 { true } else { false } }
  }

  @Test func headerPastTheEndOfTheFile() throws {
    expectError(try file("{}", lengthOverride: 4096), mentioning: "header claims 4096 bytes") { if case .headerPastEnd = $0 { true } else { false } }
  }

  @Test(arguments: ["{\"a\": ", "[1, 2]", "{\"a\": {\"dtype\": \"F32\"} } x", "\u{1}"])
  func invalidJSON(header: String) throws {
    expectError(try file(header), mentioning: "invalid header") { if case .invalidHeader = $0 { true } else { false } }
  }

  @Test func invalidUTF8() throws {
    let path = try file("{\"\u{FFFD}\":1}")
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    bytes[10] = 0xC3; bytes[11] = 0x28; bytes[12] = 0x20  // a broken two-byte sequence
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    expectError(path, mentioning: "UTF-8") { if case .invalidHeader = $0 { true } else { false } }
  }

  @Test func duplicateNames() throws {
    let entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
    expectError(try file("{\"w\":\(entry),\"w\":\(entry)}", data: four), mentioning: "'w' appears twice") { if case .duplicateTensor = $0 { true } else { false } }
  }

  @Test func unknownDType() throws {
    expectError(try file("{\"w\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: four), mentioning: "unknown dtype 'F7'") { if case .unknownDType = $0 { true } else { false } }
  }

  @Test(arguments: ["[-1]", "[1.5]", "[\"2\"]", "[4294967296, 4294967296, 4294967296]"])
  func badShapes(shape: String) throws {
    expectError(try file("{\"w\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[0,4]}}", data: four), mentioning: "bad shape") { if case .badShape = $0 { true } else { false } }
  }

  @Test func shapeDisagreesWithTheByteRange() throws {
    expectError(try file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: four), mentioning: "needs 8 bytes") { if case .sizeMismatch = $0 { true } else { false } }
  }

  @Test(arguments: ["[4,0]", "[0,8]", "[0]", "[0,\"4\"]"])
  func badOffsets(offsets: String) throws {
    expectError(try file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\(offsets)}}", data: four), mentioning: "data_offsets") { if case .badOffsets = $0 { true } else { false } }
  }

  @Test func overlappingTensors() throws {
    let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
    expectError(try file(header, data: four + four), mentioning: "overlap") { if case .overlap = $0 { true } else { false } }
  }

  @Test func gapsAndTrailingBytes() throws {
    let gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
    expectError(try file(gap, data: four + four), mentioning: "bytes 0..<4 belong to no tensor") { if case .uncoveredData = $0 { true } else { false } }
    let trailing = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
    expectError(try file(trailing, data: four + [9]), mentioning: "end at byte 4 of a 5-byte data section") { if case .uncoveredData = $0 { true } else { false } }
  }

  @Test func metadataMustBeStrings() throws {
    expectError(try file("{\"__metadata__\":{\"n\":3}}"), mentioning: "not a string") { if case .invalidHeader = $0 { true } else { false } }
  }

  @Test func missingFileAndFolder() throws {
    expectError("/nonexistent/x.safetensors", mentioning: "no such file") { if case .unreadable = $0 { true } else { false } }
    // A folder of the test's own: expectError removes what it is given afterwards.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("folder-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    expectError(folder, mentioning: "folder") { if case .unreadable = $0 { true } else { false } }
  }
}
