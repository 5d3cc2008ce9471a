import ArgumentParser
import Foundation
import VAImageIO

/// `vit-attend` from 224 to 2688 pixels beside PyTorch: wall time and peak memory of whole
/// processes, one size after another, ours and the peer alternating.
///
/// Each size gets a synthetic PNG (smooth colour gradients plus a checkerboard); each run
/// is a fresh process under `/usr/bin/time`, so the peak is that run's own (maximum resident
/// set size); the CPU time (user + system) is printed beside the wall time. Ours: `vit-attend IMG --weights W --resize none --map M --dump D` for every map
/// in --maps (decode, forward, maps, figure and dump included; the dump's attention is
/// `full` or `rows` by vit-attend's default rule). The peer:
/// `Benchmarks/scripts/vit_resolution.py` in its fused and hooks modes, which print their own
/// forward time (model load and interpreter start excluded).
struct ResolutionSweep: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resolution", abstract: "vit-attend against PyTorch from 224 to 2688 pixels: time and peak memory per size.")

  @Option(help: "A timm checkpoint folder (model.safetensors + config.json), e.g. from Benchmarks/scripts/timm_forward.py --export.")
  var weights: String

  @Option(help: "Image sides in pixels, comma-separated.")
  var sizes = "224,448,896,1344,2688"

  @Option(help: "vit-attend maps, comma-separated.")
  var maps = "cls,query"

  @Option(help: "The PyTorch peer script, run with python3 (empty: no peer).")
  var peer = "Benchmarks/scripts/vit_resolution.py"

  @Option(name: .customLong("hooks-up-to"), help: "Largest size for the peer's hooks mode, which holds heads·T² floats per layer (19 GB at 2688).")
  var hooksUpTo = 1344

  @Option(name: .customLong("work-dir"), help: "Folder for the images and dumps (default: a temporary one).")
  var workDir: String?

  func run() throws {
    let vitAttend = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vit-attend").path
    guard FileManager.default.isExecutableFile(atPath: vitAttend) else {
      throw ValidationError("vit-attend not found beside vit-bench at \(vitAttend); build it first (swift build -c release).")
    }
    let folder = workDir ?? NSTemporaryDirectory() + "vit-bench-resolution-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let threads = ProcessInfo.processInfo.environment["VISION_ATTENTION_THREADS"] ?? "all \(ProcessInfo.processInfo.activeProcessorCount)"
    emit("resolution sweep: ViT weights \(weights), threads \(threads), \(Date())")
    emit(pad("size", 6) + pad("tokens", 8) + pad("run", 24) + pad("wall s", 10) + pad("cpu s", 10) + pad("peak MiB", 10) + "notes")
    for size in sizes.split(separator: ",").compactMap({ Int($0) }) {
      let image = (folder as NSString).appendingPathComponent("sweep-\(size).png")
      try Self.syntheticImage(side: size).writePNG(to: image)
      let tokens = (size / 16) * (size / 16) + 1
      let mapList = maps.split(separator: ",").map(String.init)
      let peerModes = peer.isEmpty ? [] : ["fused"] + (size <= hooksUpTo ? ["hooks"] : [])
      // Ours and the peer alternate, so a burst of load on the shared machine hits both.
      for index in 0..<max(mapList.count, peerModes.count) {
        if index < mapList.count {
          let map = mapList[index], dump = (folder as NSString).appendingPathComponent("sweep-\(size)-\(map).safetensors")
          let r = try timed([vitAttend, image, "--weights", weights, "--resize", "none", "--map", map, "--dump", dump])
          let note = r.status == 0 ? "dump \(Self.megabytes(dump)) MB" : "exit \(r.status): \(r.lastLine)"
          emit(pad("\(size)", 6) + pad("\(tokens)", 8) + pad("vit-attend --map \(map)", 24) + pad(String(format: "%.2f", r.seconds), 10) + pad(String(format: "%.2f", r.cpuSeconds), 10) + pad(String(format: "%.0f", r.peakMiB), 10) + note)
          try? FileManager.default.removeItem(atPath: dump)
        }
        if index < peerModes.count {
          let mode = peerModes[index]
          let r = try timed(["/usr/bin/env", "python3", peer, "--size", "\(size)", "--mode", mode, "--weights", weights])
          let note = r.status == 0 ? r.lastLine : "exit \(r.status): \(r.lastLine)"
          emit(pad("\(size)", 6) + pad("\(tokens)", 8) + pad("pytorch \(mode)", 24) + pad(String(format: "%.2f", r.seconds), 10) + pad(String(format: "%.2f", r.cpuSeconds), 10) + pad(String(format: "%.0f", r.peakMiB), 10) + note)
        }
      }
      try? FileManager.default.removeItem(atPath: image)
    }
  }

  /// One line to standard output, unbuffered, so a long sweep shows each run as it ends.
  func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }

  struct Timed {
    var status: Int32
    var seconds: Double
    /// User plus system CPU time: what the run cost the machine, less sensitive than the
    /// wall time to other processes sharing the cores.
    var cpuSeconds: Double
    var peakMiB: Double
    /// The child's last line of output (the peer prints its forward time there).
    var lastLine: String
  }

  /// Runs `command` under /usr/bin/time for its wall time and maximum resident set size.
  func timed(_ command: [String]) throws -> Timed {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    process.arguments = ["-f", "VITBENCH %e %M %U %S"] + command
    // Both streams into one file: nothing can block on a full pipe, and the order is kept.
    let log = NSTemporaryDirectory() + "vit-bench-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: log) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map(String.init)
    let measured = lines.last { $0.hasPrefix("VITBENCH ") }?.split(separator: " ") ?? []
    let fields = measured.dropFirst().map { Double($0) ?? .nan }
    let seconds = fields.count == 4 ? fields[0] : .nan
    let peak = fields.count == 4 ? fields[1] / 1024 : .nan
    let cpu = fields.count == 4 ? fields[2] + fields[3] : .nan
    let last = lines.last { !$0.hasPrefix("VITBENCH ") && !$0.hasPrefix("Command exited") } ?? ""
    return Timed(status: process.terminationStatus, seconds: seconds, cpuSeconds: cpu, peakMiB: peak, lastLine: last)
  }

  /// A side x side RGB image with structure at every scale: smooth gradients under a
  /// checkerboard of 40-pixel squares.
  static func syntheticImage(side: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: side * side * 3)
    for y in 0..<side {
      for x in 0..<side {
        let check = ((x / 40) + (y / 40)) % 2 == 0 ? 60 : 0
        let i = (y * side + x) * 3
        pixels[i] = UInt8((x * 255 / max(side - 1, 1) + check) % 256)
        pixels[i + 1] = UInt8((y * 255 / max(side - 1, 1) + check) % 256)
        pixels[i + 2] = UInt8(((x + y) * 127 / max(side - 1, 1)) % 256)
      }
    }
    return Image(width: side, height: side, channels: 3, pixels: pixels)
  }

  static func megabytes(_ path: String) -> String {
    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    return String(format: "%.1f", Double(bytes) / 1e6)
  }
}
