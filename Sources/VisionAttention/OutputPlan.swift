import Foundation

/// Which input images to read and where each figure goes, as `vit-attend` plans a run:
/// folders expanded, each image paired with its outputs, nothing written over an input or
/// written twice.
public struct OutputPlan: Equatable, Sendable {
  public struct Job: Equatable, Sendable {
    /// The image to read.
    public var input: String
    /// Where its figure goes, if a figure was asked for.
    public var output: String?
    /// Where its interactive HTML page goes, if one was asked for.
    public var page: String?
  }

  public var jobs: [Job]

  /// File extensions taken from a folder. Files named explicitly are decoded whatever their
  /// name, because decoders go by magic bytes.
  public static let folderExtensions: Set<String> = ["png", "jpg", "jpeg"]

  /// Expands folders, pairs each image with its output, and refuses any output that would
  /// overwrite an input or another output.
  /// - Parameters:
  ///   - out: the single figure path (one image only; checked by the command's `validate()`).
  ///   - outDirectory: folder for one file per image, named after the image's stem.
  ///   - html: the single page path (one image only).
  ///   - format: what `outDirectory` holds: PNG figures or HTML pages.
  public static func make(
    inputs: [String], out: String?, outDirectory: String?, html: String? = nil, format: OutputFormat = .png
  ) throws(VitAttendError) -> OutputPlan {
    var images: [String] = []
    let files = FileManager.default
    for input in inputs {
      var isDirectory: ObjCBool = false
      guard files.fileExists(atPath: input, isDirectory: &isDirectory) else { throw .notFound(path: input) }
      if isDirectory.boolValue {
        let entries = (try? files.contentsOfDirectory(atPath: input)) ?? []
        let found = entries.filter { !$0.hasPrefix(".") && folderExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
          .sorted()
          .map { (input as NSString).appendingPathComponent($0) }
        guard !found.isEmpty else { throw .noImages(folder: input) }
        images += found
      } else {
        images.append(input)
      }
    }

    if out != nil || html != nil, outDirectory == nil, images.count > 1 {
      throw .needsOneImage(images: images.count)
    }
    var jobs: [Job] = []
    var claimed: [String: String] = [:]  // resolved output path -> the input it belongs to
    let inputPaths = Set(images.map(resolved))
    func claim(_ path: String?, for input: String) throws(VitAttendError) {
      guard let path else { return }
      let key = resolved(path)
      if inputPaths.contains(key) { throw .wouldOverwriteInput(path: path) }
      if let other = claimed[key] { throw .duplicateOutputName(output: path, first: other, second: input) }
      claimed[key] = input
    }
    for image in images {
      var job = Job(input: image, output: out, page: html)
      if let outDirectory {
        let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
        let path = (outDirectory as NSString).appendingPathComponent(stem + "." + format.rawValue)
        switch format {
        case .png: job.output = path
        case .html: job.page = path
        }
      }
      try claim(job.output, for: image)
      try claim(job.page, for: image)
      jobs.append(job)
    }
    return OutputPlan(jobs: jobs)
  }

  /// An absolute, symlink-free path, so `./a.png`, `a.png` and a link to it compare equal.
  private static func resolved(_ path: String) -> String {
    let absolute = URL(fileURLWithPath: path).standardizedFileURL
    return absolute.resolvingSymlinksInPath().path
  }
}

/// What `--out-dir` holds: one PNG figure or one interactive HTML page per image.
public enum OutputFormat: String, CaseIterable, Sendable {
  case png
  case html
}
