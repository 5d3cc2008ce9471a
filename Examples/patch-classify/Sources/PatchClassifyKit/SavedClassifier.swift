import Foundation
import VAModels
import VATensorCore

/// Errors of `patch-classify evaluate`, each one clear message.
public enum EvaluationError: Error, CustomStringConvertible {
  /// The checkpoint is missing, malformed, or says something the loader does not implement.
  case checkpoint(path: String, reason: String)
  /// The checkpoint loader's own message (it names the file and tensor at fault).
  case loader(String)
  /// The checkpoint's `label_names` are not the data set's classes (in class-index order).
  case labelsDiffer(checkpoint: [String], data: [String])
  /// The model has a different number of outputs than the data set has classes.
  case classCountDiffers(checkpoint: Int, data: Int)
  case dataset(DatasetError)
  /// The split chosen holds no image (fewer than five per class, with `--split val`).
  case noImages(data: String, split: String)
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .checkpoint(let path, let reason): "\(path): \(reason)"
    case .loader(let message): message
    case .labelsDiffer(let checkpoint, let data):
      "the checkpoint's classes \(checkpoint) (label_names in its config.json) differ from the data's \(data)"
    case .classCountDiffers(let checkpoint, let data): "the checkpoint has \(checkpoint) classes but the data has \(data)"
    case .dataset(let e): e.description
    case .noImages(let data, let split): "\(data): the \(split) split holds no image (every 5th image of each class is held out; --split all scores them all)"
    case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
    }
  }
}

/// A classifier read back from a checkpoint folder `patch-classify` wrote: a ViT (timm's
/// layout, through the same `VisionTransformer.importCheckpoint` that `vit-attend --weights`
/// uses), a Swin (timm's layout, `SwinTransformer.load`) or a CNN / CNN+SAGAN (`ConvNet.load(fromCheckpointFolder:)`, which rebuilds it from
/// `config.json` and reads its normalisation).
public struct SavedClassifier {
  /// The network, behind one case per model family (`Evaluation` is generic over it).
  public enum Network {
    case vit(ViTClassifier)
    case convNet(ConvNetClassifier)
    case swin(SwinClassifier)
  }

  public var network: Network
  /// `vit`, `cnn`, `cnn-sagan` or `swin` (`ModelKind`'s names).
  public var kind: String
  /// The side of the square images the model takes (its config's input size).
  public var inputSize: Int
  /// `config.json`'s `label_names`, when present.
  public var labelNames: [String]?
  public var classCount: Int
  /// Settings the ViT loader had to infer (none for a checkpoint `patch-classify` wrote).
  public var inferred: [String] = []

  /// Loads the checkpoint in `folder` (`model.safetensors` and `config.json`).
  /// - Throws: `EvaluationError.checkpoint` naming the file and what is wrong with it.
  public init(loading folder: String) throws(EvaluationError) {
    let configPath = (folder as NSString).appendingPathComponent("config.json")
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw .checkpoint(path: folder, reason: "no such checkpoint folder (expected RUN/checkpoint with model.safetensors and config.json)")
    }
    // Without its config a ViT would load with guessed heads and normalisation: refuse instead.
    guard let data = FileManager.default.contents(atPath: configPath) else {
      throw .checkpoint(path: configPath, reason: "missing (evaluate needs the config.json patch-classify writes beside model.safetensors)")
    }
    guard let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw .checkpoint(path: configPath, reason: "not a JSON object")
    }
    if config["label_names"] != nil {
      guard let names = config["label_names"] as? [String] else { throw .checkpoint(path: configPath, reason: "label_names is not a list of strings") }
      labelNames = names
    }
    switch config["architecture"] as? String {
    case "resnet-like", "resnet-like+sagan":
      let checkpoint: ConvNetCheckpoint
      do { checkpoint = try ConvNet.load(fromCheckpointFolder: folder) } catch { throw .loader(error.description) }
      let family = checkpoint.net.configuration.attention == nil ? "cnn" : "cnn-sagan"
      (network, kind, inputSize, classCount) = (.convNet(ConvNetClassifier(checkpoint)), family, checkpoint.inputSize, checkpoint.classCount)
    case _ where SwinTransformer.isSwinCheckpoint(at: folder):
      let model: SwinTransformer
      do { model = try SwinTransformer.load(from: folder) } catch { throw .loader(error.description) }
      // timm builds a Swin's windows and masks for its img_size and refuses other inputs.
      let size = ((config["model_args"] as? [String: Any])?["img_size"] as? NSNumber)?.intValue
      guard let size, size > 0, size % model.configuration.patchSize == 0 else {
        throw .checkpoint(path: configPath, reason: "a Swin needs model_args.img_size, one square side that is a multiple of its patch size \(model.configuration.patchSize)")
      }
      guard let head = model.head else { throw .checkpoint(path: configPath, reason: "the model has no classification head") }
      (network, kind, inputSize, classCount) = (.swin(SwinClassifier(model, imageSize: size, labelNames: labelNames)), "swin", size, head.outputs)
    default:
      let imported: ImportedCheckpoint
      do { imported = try VisionTransformer.importCheckpoint(from: folder) } catch {
        throw .loader(error.description)
      }
      let c = imported.model.configuration
      guard c.imageWidth == c.imageHeight else {
        throw .checkpoint(path: configPath, reason: "input size \(c.imageWidth)x\(c.imageHeight) is not square (patch-classify trains square images)")
      }
      (network, kind, inputSize, classCount, inferred) = (.vit(ViTClassifier(imported.model, labelNames: labelNames)), "vit", c.imageWidth, c.classCount, imported.inferred)
    }
    guard classCount > 0 else { throw .checkpoint(path: configPath, reason: "the model has no classification head") }
    if let labelNames, labelNames.count != classCount {
      throw .checkpoint(path: configPath, reason: "\(labelNames.count) label_names for \(classCount) classes")
    }
  }

  /// `data` with its labels in the model's class order: by name when the checkpoint has
  /// `label_names` (a model trained on ShapeWorld, whose class order is not the sorted one,
  /// scores an exported ShapeWorld folder correctly), else by index.
  /// - Throws: `.labelsDiffer` when `label_names` are not the data's classes (in any
  ///   order), `.classCountDiffers` when the counts differ.
  public func align(_ data: LabeledImages) throws(EvaluationError) -> LabeledImages {
    guard let labelNames else {
      guard classCount == data.classNames.count else { throw .classCountDiffers(checkpoint: classCount, data: data.classNames.count) }
      return data
    }
    guard labelNames.count == data.classNames.count, Set(labelNames) == Set(data.classNames) else {
      throw .labelsDiffer(checkpoint: labelNames, data: data.classNames)
    }
    guard labelNames != data.classNames else { return data }
    var out = data
    let index = Dictionary(uniqueKeysWithValues: labelNames.enumerated().map { ($1, $0) })
    out.classNames = labelNames
    out.labels = data.labels.map { index[data.classNames[$0]]! }
    return out
  }

  /// The predicted class of every image of `data` and the report (with the pointing game
  /// when `data` has masks), in batches of `batchSize`.
  public mutating func evaluate(on data: LabeledImages, batchSize: Int) -> (predictions: [Int], report: Evaluation.Report) {
    switch network {
    case .vit(var model):
      let predicted = Evaluation.predictions(of: &model, on: data, batchSize: batchSize)
      let report = Evaluation.evaluate(&model, on: data, predicted: predicted, batchSize: batchSize)
      network = .vit(model)
      return (predicted, report)
    case .convNet(var model):
      let predicted = Evaluation.predictions(of: &model, on: data, batchSize: batchSize)
      let report = Evaluation.evaluate(&model, on: data, predicted: predicted, batchSize: batchSize)
      network = .convNet(model)
      return (predicted, report)
    case .swin(var model):
      let predicted = Evaluation.predictions(of: &model, on: data, batchSize: batchSize)
      let report = Evaluation.evaluate(&model, on: data, predicted: predicted, batchSize: batchSize)
      network = .swin(model)
      return (predicted, report)
    }
  }
}
