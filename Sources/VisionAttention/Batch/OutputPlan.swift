import Foundation

/// Which input images to read and where each one's outputs go, as `vit-attend` plans a run:
/// folders walked recursively, outputs mirroring the tree, nothing written over an input or
/// written twice, and a deterministic share of the images per shard.
public struct OutputPlan: Equatable, Sendable {
  /// One image and its outputs.
  public struct Job: Equatable, Sendable {
    /// The image to read.
    public var input: String
    /// Its name in the index: the path relative to the folder it was found in, or the path
    /// as given for a file named on the command line.
    public var relative: String
    /// Its position in the whole run's sorted list of images, counted from 0 (shards keep the
    /// numbers of the whole run, so merged indexes sort back into one order).
    public var position: Int
    /// Where its figure goes, if a figure was asked for.
    public var output: String?
    /// Where its interactive HTML page goes, if one was asked for.
    public var page: String?
    /// Where its numbers go, if a dump was asked for.
    public var dump: String?
    /// Whether its outputs mirror the input tree under an output folder (whose subfolders
    /// are then made as needed); outputs named on the command line must have their folder.
    public var mirrored = false
  }

  /// What the command asked for.
  public struct Request: Sendable {
    /// Files and folders to read, as given on the command line.
    public var inputs: [String]
    /// The single figure path (one image only).
    public var out: String?
    /// Folder for one output per image, mirroring the input tree.
    public var outDirectory: String?
    /// The single page path (one image only).
    public var html: String?
    /// What `outDirectory` holds.
    public var format: OutputFormat = .png
    /// The single dump path (one image only).
    public var dump: String?
    /// Folder for one dump per image, mirroring the input tree.
    public var dumpDirectory: String?
    /// This run's share of the images.
    public var shard: Shard?

    /// A request for `inputs` with no output named yet.
    public init(inputs: [String]) { self.inputs = inputs }
  }

  /// One job per image of this shard, in the whole run's sorted order.
  public var jobs: [Job]

  /// File extensions taken from a folder. Files named explicitly are decoded whatever their
  /// name, because decoders go by magic bytes.
  public static let folderExtensions: Set<String> = ["png", "jpg", "jpeg"]

  /// Expands folders (recursively, in sorted relative-path order, hidden entries skipped),
  /// pairs each image with its outputs, keeps the shard's share, and refuses any output that
  /// would overwrite an input or another output.
  public static func make(_ request: Request) throws(VisionAttentionError) -> OutputPlan {
    var images: [(path: String, relative: String, fromFolder: Bool)] = []
    for input in request.inputs {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else { throw .notFound(path: input) }
      if isDirectory.boolValue {
        let found = imageFiles(under: input)
        guard !found.isEmpty else { throw .noImages(folder: input) }
        images += found.map { ((input as NSString).appendingPathComponent($0), $0, true) }
      } else {
        images.append((input, input, false))
      }
    }
    let single = request.outDirectory == nil && request.dumpDirectory == nil
    if request.out != nil || request.html != nil || request.dump != nil, single, images.count > 1 {
      throw .needsOneImage(images: images.count)
    }

    var jobs: [Job] = []
    var claimed: [String: String] = [:]  // resolved output path -> the input it belongs to
    let inputPaths = Set(images.map { resolved($0.path) })
    func claim(_ path: String?, for input: String) throws(VisionAttentionError) {
      guard let path else { return }
      let key = resolved(path)
      if inputPaths.contains(key) { throw .wouldOverwriteInput(path: path) }
      if let other = claimed[key] { throw .duplicateOutputName(output: path, first: other, second: input) }
      claimed[key] = input
    }
    for (position, image) in images.enumerated() {
      if let shard = request.shard, !shard.contains(position) { continue }
      // Images found in a folder keep their folder path under the output folder; files named
      // on the command line go at its top, as before.
      let stem =
        image.fromFolder
        ? (image.relative as NSString).deletingPathExtension
        : ((image.path as NSString).lastPathComponent as NSString).deletingPathExtension
      func mirrored(_ folder: String?, _ suffix: String) -> String? {
        folder.map { ($0 as NSString).appendingPathComponent(stem + "." + suffix) }
      }
      var job = Job(input: image.path, relative: image.relative, position: position, output: request.out, page: request.html, dump: request.dump)
      switch request.format {
      case .png: job.output = mirrored(request.outDirectory, "png") ?? job.output
      case .html: job.page = mirrored(request.outDirectory, "html") ?? job.page
      }
      job.dump = mirrored(request.dumpDirectory, "safetensors") ?? job.dump
      job.mirrored = request.outDirectory != nil || request.dumpDirectory != nil
      try claim(job.output, for: image.path)
      try claim(job.page, for: image.path)
      try claim(job.dump, for: image.path)
      jobs.append(job)
    }
    return OutputPlan(jobs: jobs)
  }

  /// Image files under `folder` as sorted relative paths. Symbolic links to folders are
  /// followed once each (a link cycle cannot loop): a folder reached by several paths is
  /// walked under the first in sorted order, depth first, whatever order the file system
  /// lists entries in. Hidden files and folders are skipped.
  static func imageFiles(under folder: String) -> [String] {
    var found: [String] = []
    var visited: Set<String> = [resolved(folder)]
    func walk(_ relative: String) {
      let path = relative.isEmpty ? folder : (folder as NSString).appendingPathComponent(relative)
      let entries = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
      for entry in entries {
        let child = relative.isEmpty ? entry : (relative as NSString).appendingPathComponent(entry)
        let full = (folder as NSString).appendingPathComponent(child)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
        if isDirectory.boolValue {
          if visited.insert(resolved(full)).inserted { walk(child) }
        } else if folderExtensions.contains((entry as NSString).pathExtension.lowercased()) {
          found.append(child)
        }
      }
    }
    walk("")
    // Sorted by path components, so "a/b.png" and "a.png" order the same on every machine.
    return found.sorted { $0.split(separator: "/").lexicographicallyPrecedes($1.split(separator: "/")) }
  }

  /// An absolute, symlink-free path, so `./a.png`, `a.png` and a link to it compare equal.
  static func resolved(_ path: String) -> String {
    let absolute = URL(fileURLWithPath: path).standardizedFileURL
    return absolute.resolvingSymlinksInPath().path
  }
}

/// What `--out-dir` holds: one PNG figure or one interactive HTML page per image.
public enum OutputFormat: String, CaseIterable, Sendable {
  /// One PNG figure per image.
  case png
  /// One self-contained interactive HTML page per image.
  case html
}

/// One of `count` deterministic shares of a run: image `i` (from 0, in the run's sorted
/// order) belongs to shard `i mod count + 1`. Written `K/N` on the command line.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
  /// From 1.
  public let index: Int
  /// N: how many shards share the run.
  public let count: Int

  /// - Precondition: `1 ≤ index ≤ count`.
  public init(index: Int, count: Int) {
    precondition(count >= 1 && (1...count).contains(index), "a shard is K/N with 1 ≤ K ≤ N, got \(index)/\(count)")
    self.index = index
    self.count = count
  }

  /// Parses `K/N`; nil unless 1 ≤ K ≤ N.
  public init?(parsing text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, n <= 1_000_000, (1...n).contains(k) else { return nil }
    self.init(index: k, count: n)
  }

  /// Whether the image at `position` (from 0, in the whole run's order) is this shard's.
  public func contains(_ position: Int) -> Bool { position % count + 1 == index }

  /// `K-of-N`, the suffix of the shard's index and summary files.
  public var fileTag: String { "\(index)-of-\(count)" }
  /// `K/N`, as written on the command line.
  public var description: String { "\(index)/\(count)" }
}
