import Foundation

/// Writes `index.jsonl` line by line as images finish, into a temporary file beside it that
/// is renamed over the index when the run ends: a reader never sees half an index, and a
/// killed run leaves the previous one in place (with `--skip-existing`, the next run keeps
/// its records for the images it skips).
struct IndexWriter {
  let path: String
  private let temporary: String
  private let handle: FileHandle

  init(path: String) throws(VisionAttentionError) {
    self.path = path
    try Pipeline.makeParentFolder(of: path)
    let folder = (path as NSString).deletingLastPathComponent
    temporary = (folder.isEmpty ? "." : folder) + "/.\((path as NSString).lastPathComponent).partial-\(UUID().uuidString)"
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
      let handle = FileHandle(forWritingAtPath: temporary)
    else { throw .writeFailed(path: path, reason: "cannot create \(temporary)") }
    self.handle = handle
  }

  /// Appends one record as a line of JSON.
  mutating func append(_ record: IndexRecord) {
    guard let line = try? record.jsonLine() else { return }
    handle.write(Data((line + "\n").utf8))
  }

  /// Closes the file and renames it over the index.
  func finish() throws(VisionAttentionError) {
    do {
      try handle.close()
    } catch {
      throw .writeFailed(path: path, reason: error.localizedDescription)
    }
    // rename(2) replaces an existing index in one step.
    guard rename(temporary, path) == 0 else {
      throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
    }
  }

  /// Records of an index file by input, for `--skip-existing` (empty when there is none).
  static func read(_ path: String) throws(VisionAttentionError) -> [IndexRecord] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var records: [IndexRecord] = []
    for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() where !line.isEmpty {
      do {
        records.append(try JSONDecoder().decode(IndexRecord.self, from: Data(line.utf8)))
      } catch {
        throw .malformedIndex(path: path, line: number + 1, reason: "\(error)")
      }
    }
    return records
  }
}
