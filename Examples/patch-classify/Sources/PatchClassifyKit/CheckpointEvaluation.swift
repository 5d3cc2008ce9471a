import Foundation
import VAImageIO

/// What `patch-classify evaluate` scores: a saved model on a data set's images.
public struct EvaluationOptions: Sendable {
  /// The checkpoint folder (`RUN/checkpoint`).
  public var weights: String
  /// `.shapeWorld(_, validation: n)`: the first `n` validation samples of a training run with
  /// `seed`; `.folder(root)`: the images of `split` under `root`.
  public var data: DataSource
  public var seed: UInt64 = 0
  public var split = FolderSplit.val
  /// For a folder, its masks (`ImageFolder.withMasks`), for the pointing game.
  public var masks: String?
  public var batchSize = 64

  public init(weights: String, data: DataSource) {
    self.weights = weights
    self.data = data
  }
}

/// A saved model's scores on a data set, with every image's prediction.
public struct EvaluationResult {
  public var options: EvaluationOptions
  /// `vit`, `cnn` or `cnn-sagan`.
  public var model: String
  /// The side of the images the model saw (its config's input size).
  public var imageSize: Int
  public var classNames: [String]
  public var report: Evaluation.Report
  /// Per image: where it came from (a folder image's path below the data root, or
  /// "shapeworld #i"), its class and the predicted class (indices into `classNames`).
  public var sources: [String]
  public var labels: [Int]
  public var predictions: [Int]
  /// What had to be assumed because no file said it (heads, normalisation, the class
  /// order without `label_names`), one sentence each, for stderr.
  public var inferred: [String]

  /// `dataset` as `metrics.json` names it: "shapeworld" or the folder's root.
  public var dataset: String {
    switch options.data {
    case .shapeWorld: "shapeworld"
    case .folder(let root): root
    }
  }

  /// The JSON object (keys sorted when serialised): `metrics.json`'s evaluation keys
  /// (`RunMetrics.reportJSON`: `val_accuracy`, `per_class_accuracy`, `confusion_matrix`,
  /// `pointing_game`, …) plus `model`, `dataset`, `split`, `weights`, `image_size`,
  /// `images`, `correct`, `seed` (ShapeWorld) and `predictions` (per image: `source`,
  /// `label`, `predicted`, class names).
  public var json: [String: Any] {
    var out = RunMetrics.reportJSON(report, classNames: classNames)
    let perImage: [[String: String]] = (0..<labels.count).map { i in
      ["source": sources[i], "label": classNames[labels[i]], "predicted": classNames[predictions[i]]]
    }
    let correct: Int = zip(labels, predictions).filter { $0 == $1 }.count
    out["model"] = model
    out["dataset"] = dataset
    out["weights"] = options.weights
    out["image_size"] = imageSize
    out["images"] = labels.count
    out["correct"] = correct
    out["predictions"] = perImage
    switch options.data {
    case .shapeWorld: out["seed"] = options.seed
    case .folder: out["split"] = options.split.rawValue
    }
    return out
  }

  /// Writes `json` to `path` through a temporary file and a rename.
  public func write(to path: String) throws(EvaluationError) {
    do {
      let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
      try AtomicFile.write([UInt8](data), to: path)
    } catch let error as ImageIOError {
      throw .writeFailed(path: path, reason: error.description)
    } catch {
      throw .writeFailed(path: path, reason: "\(error)")
    }
  }
}

/// `patch-classify evaluate`: a saved model scored on a data set, as a training run scores
/// it at its end (same split, same image size, same `Evaluation`).
public enum CheckpointEvaluation {
  /// Loads the checkpoint and the data at the model's input size, checks that their classes
  /// agree (`SavedClassifier.align`: classes in the model's order), and evaluates.
  /// - Throws: `EvaluationError` for a missing or malformed checkpoint, classes that differ
  ///   from the checkpoint's, or unreadable data (a missing mask included).
  public static func run(_ options: EvaluationOptions) throws(EvaluationError) -> EvaluationResult {
    var saved = try SavedClassifier(loading: options.weights)
    let size = saved.inputSize
    let data: LabeledImages
    let sources: [String]
    switch options.data {
    case .shapeWorld(_, let count):
      guard size >= 16 else { throw .checkpoint(path: options.weights, reason: "input size \(size) is below ShapeWorld's smallest, 16") }
      let start = ClassificationRun.validationStart
      data = LabeledImages(ShapeWorld(imageSize: size, seed: options.seed), range: start..<(start + count))
      sources = data.sources
    case .folder(let root):
      do {
        var images = try ImageFolder.load(root, size: size, split: options.split)
        if let masks = options.masks { images = try ImageFolder.withMasks(images, root: root, maskRoot: masks, size: size) }
        data = images
      } catch {
        throw .dataset(error)
      }
      guard data.count > 0 else { throw .noImages(data: root, split: options.split.rawValue) }
      sources = data.sources.map { ImageFolder.relativePath(of: $0, under: root) }
    }
    let aligned = try saved.align(data)
    var notes = saved.inferred
    if saved.labelNames == nil, case .folder = options.data {
      // Nothing says which output is which class: say what is assumed.
      notes.append("config.json has no label_names: output i is taken to be the folder's i-th class in sorted order (\(data.classNames.joined(separator: ", ")))")
    }
    let (predictions, report) = saved.evaluate(on: aligned, batchSize: options.batchSize)
    return EvaluationResult(
      options: options, model: saved.kind, imageSize: size, classNames: aligned.classNames, report: report,
      sources: sources, labels: aligned.labels, predictions: predictions, inferred: notes)
  }
}
