import VASafetensors

/// Copies every tensor of a file into a writer, to build altered checkpoints in tests.
enum SafetensorsWriterCopy {
  static func copy(_ path: String) -> SafetensorsWriter {
    let file = try! SafetensorsFile(path: path)
    var writer = SafetensorsWriter()
    for info in file.tensors { writer.add(info.name, shape: info.shape, values: try! file.floats(info.name)) }
    return writer
  }
}
