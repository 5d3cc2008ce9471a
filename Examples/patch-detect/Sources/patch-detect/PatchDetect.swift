import ArgumentParser
import Foundation
import PatchDetectKit

/// `patch-detect`: trains a small DETR on a COCO-format folder on the CPU, and evaluates one.
struct PatchDetect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "patch-detect",
    abstract: "Train a small DETR on a COCO-format folder on the CPU, or evaluate one.",
    discussion: "patch-detect --export-scenes DIR [--count N --image-size S --seed K] is export-scenes DIR: the built-in data.",
    subcommands: [Train.self, Evaluate.self, ExportScenes.self],
    defaultSubcommand: Train.self)

  /// Runs the command line, reading `--export-scenes DIR` (the issue's spelling, beside the
  /// training options) as the `export-scenes DIR` subcommand, so training's command stays
  /// about training; every other argument goes to that subcommand unchanged.
  static func main() {
    main(routingExportScenes(Array(CommandLine.arguments.dropFirst())))
  }

  /// `arguments` with `--export-scenes DIR` (or `--export-scenes=DIR`) turned into `export-scenes DIR`.
  static func routingExportScenes(_ arguments: [String]) -> [String] {
    var arguments = arguments
    guard let i = arguments.firstIndex(where: { $0 == "--export-scenes" || $0.hasPrefix("--export-scenes=") }) else { return arguments }
    let flag = arguments.remove(at: i)
    var folder: [String] = []
    if let equals = flag.firstIndex(of: "=") {
      folder = [String(flag[flag.index(after: equals)...])]
    } else if i < arguments.count {
      folder = [arguments.remove(at: i)]
    }
    return ["export-scenes"] + folder + arguments
  }
}

/// Where a command's data comes from: a COCO folder, and the validation part of it.
struct DataOptions: ParsableArguments {
  @Option(help: "A COCO-format folder: annotations.json, images beside it or under images/ (or the annotations file itself).")
  var data: String?

  @Option(name: .customLong("val-data"), help: "A second COCO folder or annotations file to validate on, instead of holding out --val-fraction of --data.")
  var validationData: String?

  @Option(name: .customLong("val-fraction"), help: "The share of --data's images held out for validation, chosen with --seed.")
  var validationFraction = 0.1

  func validate() throws {
    guard validationFraction > 0, validationFraction < 1 else {
      throw ValidationError("--val-fraction must be between 0 and 1 (exclusive), got \(validationFraction).")
    }
  }

  /// The training and validation parts. Every image and annotation skipped is written to
  /// stderr with its reason (and stays in the returned `issues`).
  /// - Throws: `COCOError` for a file that cannot be used at all.
  func load(seed: UInt64) throws -> (train: COCODataset, validation: COCODataset) {
    // Optional in the parser so that a command can also run without data (--export-scenes).
    guard let data else { throw ValidationError("--data is required: a COCO folder (patch-detect export-scenes DIR writes one).") }
    let all = try COCODataset(path: data)
    Self.report(all)
    guard let validationData else { return try all.split(validationFraction: validationFraction, seed: seed) }
    let validation = try COCODataset(path: validationData)
    Self.report(validation)
    try all.checkSameCategories(as: validation)
    return (all, validation)
  }

  /// Writes each skipped item to stderr, then a count.
  static func report(_ data: COCODataset) {
    guard !data.issues.isEmpty else { return }
    for issue in data.issues { FileHandle.standardError.write(Data("skipped: \(issue)\n".utf8)) }
    FileHandle.standardError.write(Data("\(data.path): \(data.issues.count) item(s) skipped, \(data.images.count) image(s) kept\n".utf8))
  }
}
