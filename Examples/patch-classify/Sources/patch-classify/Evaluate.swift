import ArgumentParser
import Foundation
import PatchClassifyKit
import VATensorCore
import VisionAttention

extension FolderSplit: ExpressibleByArgument {}

/// `patch-classify evaluate`: a saved model scored again, on the split a training run
/// holds out or on any folder, at the model's own input size.
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score a saved model: accuracy, per-class accuracy, the confusion matrix and, with masks, the pointing game.",
    discussion: """
      --weights is a checkpoint folder patch-classify wrote (RUN/checkpoint: model.safetensors \
      and config.json; a ViT, CNN or CNN+SAGAN). Images are brought to the model's input size \
      (its config.json's) as training brings them. --data DIR scores the validation split \
      training holds out (DIR/val when DIR/train and DIR/val exist, else every 5th image of \
      each class), or every image with --split all; --data shapeworld scores the first \
      --val-size validation samples of a training run with --seed. When config.json has \
      label_names they must be the data's classes, in order. --out writes the figures as \
      JSON with metrics.json's keys (val_accuracy, per_class_accuracy, confusion_matrix, \
      pointing_game, ...) and every image's prediction.
      """)

  @Option(name: [.customShort("w"), .long], help: "The checkpoint folder (RUN/checkpoint).")
  var weights: String

  @Option(help: "shapeworld, or the root of an image folder (root/<class>/*.png|jpg).")
  var data: String

  @Option(help: "For a folder: its object masks, DIR/<same relative path>.png (non-zero = object), for the pointing game.")
  var masks: String?

  @Option(help: "For a folder: val (the split training holds out) or all (every image). (default: val)")
  var split: FolderSplit?

  @Option(name: .customLong("val-size"), help: "For shapeworld: validation samples scored. (default: 2000, as training)")
  var valSize: Int?

  @Option(help: "For shapeworld: the training run's seed. (default: 0)")
  var seed: UInt64?

  @Option(name: .shortAndLong, help: "Also write the results as JSON to this .json file.")
  var out: String?

  @Option(name: .customLong("batch-size"), help: "Images per forward pass.")
  var batchSize = 64

  @Option(help: "Compute threads (default: the processors this process may run on).")
  var threads: Int?

  var isShapeWorld: Bool { data == "shapeworld" }

  func validate() throws {
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if let valSize, valSize < 1 { throw ValidationError("--val-size must be at least 1, got \(valSize)") }
    if isShapeWorld {
      if masks != nil { throw ValidationError("--masks is for image folders; ShapeWorld brings its own masks") }
      if split != nil { throw ValidationError("--split is for image folders; --val-size chooses ShapeWorld's samples") }
    } else if valSize != nil || seed != nil {
      throw ValidationError("--val-size and --seed are for --data shapeworld; a folder's split is --split")
    }
    if let out {
      guard out.lowercased().hasSuffix(".json") else { throw ValidationError("--out must name a .json file, got \(out)") }
      // The checkpoint is an input: never write over any of its files.
      let outFolder = URL(fileURLWithPath: out).deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath().path
      if outFolder == URL(fileURLWithPath: weights).standardizedFileURL.resolvingSymlinksInPath().path {
        throw ValidationError("--out \(out) is inside the checkpoint folder \(weights); write it elsewhere")
      }
    }
  }

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    AllocatorTuning.keepFreedMemoryForReuse()
    var options = EvaluationOptions(weights: weights, data: isShapeWorld ? .shapeWorld(train: 0, validation: valSize ?? 2_000) : .folder(data))
    options.seed = seed ?? 0
    options.split = split ?? .val
    options.masks = masks
    options.batchSize = batchSize
    let result: EvaluationResult
    do {
      result = try CheckpointEvaluation.run(options)
      if let out { try result.write(to: out) }
    } catch {
      FileHandle.standardError.write(Data("patch-classify: \(error.description)\n".utf8))
      throw ExitCode.failure
    }
    for note in result.inferred { FileHandle.standardError.write(Data("patch-classify: warning: \(note)\n".utf8)) }
    let correct = zip(result.labels, result.predictions).filter { $0 == $1 }.count
    let scope = isShapeWorld ? "shapeworld, seed \(options.seed)" : "\(data), split \(options.split.rawValue)"
    var lines = [
      String(
        format: "accuracy %.2f%% (%d of %d images; %@ %dx%d from %@, on %@)", 100 * result.report.accuracy, correct,
        result.labels.count, result.model, result.imageSize, result.imageSize, weights, scope)
    ]
    lines += Summary.reportLines(result.report, classNames: result.classNames)
    if !isShapeWorld && masks == nil { lines.append("pointing game: not scored (no --masks)") }
    if let out { lines.append("wrote \(out)") }
    print(lines.joined(separator: "\n"))
  }
}
