import Foundation
import Testing
@testable import VASafetensors

/// `SafetensorsStreamWriter`: header first, tensors one by one, temp file and rename.
struct StreamWriterTests {
  func folder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @Test func sameBytesAsTheInMemoryWriterAndReadsBack() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    var memory = SafetensorsWriter()
    memory.metadata = ["attention-dump": "rows", "model": "a \"quoted\" name"]
    memory.add("input", shape: [2, 3], values: [1, 2, 3, 4, 5, -6])
    memory.add("attn_rows.0", shape: [1, 2, 2], values: [0.25, 0.75, 1, .infinity])
    let path = dir.appendingPathComponent("dump.safetensors").path
    let stream = try SafetensorsStreamWriter(
      path: path, entries: [.init("input", shape: [2, 3]), .init("attn_rows.0", shape: [1, 2, 2])], metadata: memory.metadata)
    #expect(!FileManager.default.fileExists(atPath: path))  // nothing at the path until finish
    try stream.write([1, 2, 3, 4, 5, -6])
    try stream.write([0.25, 0.75, 1, .infinity])
    try stream.finish()
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(memory.serialized()))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["dump.safetensors"])
  }

  @Test func integersAreI64() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("t.safetensors").path
    let stream = try SafetensorsStreamWriter(path: path, entries: [.init("tokens", dtype: .i64, shape: [3]), .init("x", shape: [1])])
    try stream.write(integers: [0, 28_224, 7])
    try stream.write([2.5])
    try stream.finish()
    let file = try SafetensorsFile(path: path)
    #expect(file.info("tokens")?.dtype == .i64 && file.info("tokens")?.shape == [3])
    #expect(try file.floats("tokens") == [0, 28_224, 7] && file.floats("x") == [2.5])
  }

  @Test func unfinishedWritesLeaveNothing() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("t.safetensors").path
    try Data("old".utf8).write(to: URL(fileURLWithPath: path))
    do {
      let stream = try SafetensorsStreamWriter(path: path, entries: [.init("a", shape: [1]), .init("b", shape: [2])])
      try stream.write([1])
      #expect(throws: SafetensorsError.self) { try stream.finish() }  // b never written
    }
    do {
      let stream = try SafetensorsStreamWriter(path: path, entries: [.init("a", shape: [1])])
      _ = stream  // dropped without finish
    }
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["t.safetensors"])
  }

  @Test func missingFolderIsAnError() {
    let path = "/nonexistent-\(UUID().uuidString)/t.safetensors"
    #expect(throws: SafetensorsError.self) { _ = try SafetensorsStreamWriter(path: path, entries: []) }
  }
}
