import ArgumentParser
import Foundation
import PatchClassifyKit
import VAModels
import VATensorCore
import VisionAttention

extension ModelKind: ExpressibleByArgument {}
extension PositionKind: ExpressibleByArgument {}
extension StemKind: ExpressibleByArgument {}
extension PoolKind: ExpressibleByArgument {}

/// `patch-classify [train]`: trains a small ViT (or a CNN baseline) on ShapeWorld or an
/// image folder (the default subcommand, so `patch-classify --data X` trains).
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a small vision transformer on the CPU and see what it learned to look at.",
    discussion: """
      --data shapeworld (the default) generates the built-in dataset: one object of six \
      classes (circle, square, triangle, star, cross, ring) on a textured background, with its \
      mask for the pointing game. --data PATH reads an image folder, root/<class>/*.png|jpg \
      (with root/train and root/val when both exist, else every 5th image of each class is \
      held out). --masks DIR gives a folder's object masks, DIR/<same relative path>.png \
      (non-zero = object), for the pointing game; only the validation images need one.

      --run-dir gets checkpoint/ (model.safetensors and config.json in timm's layout, loadable \
      by vit-attend --weights and by timm, plus trainer_state.safetensors), metrics.json \
      (val_accuracy, per_class_accuracy, pointing_game, images_per_second, train_seconds, ...), \
      curves.png, confusion.png and attention.png. A checkpoint is written every \
      --checkpoint-every steps and after every epoch; --resume continues from it; \
      patch-classify evaluate scores it again.
      """)

  @Option(help: "shapeworld, or the root of an image folder (root/<class>/*.png|jpg).")
  var data = "shapeworld"

  @Option(help: "For a folder: its object masks, DIR/<class>/<name>.png (or DIR/val/<class>/...) beside each validation image's path; fills pointing_game.")
  var masks: String?

  @Option(help: "The model to train: vit, cnn, cnn-sagan, or swin (a Swin Transformer sized by --patch-size, --width, --head-count, --stage-depths and --window; saved in timm's layout).")
  var model = ModelKind.vit

  @Option(help: "Passes over the training set (default: as many as the data set's size asks for and --budget allows).")
  var epochs: Int?

  @Option(help: "Minutes for the whole run when --epochs is not given: the schedule is planned from the data set's size and the measured speed so the run ends within it.")
  var budget: Double = 15

  @Flag(help: "Mirror training images left to right half of the time (default: on for ShapeWorld, off for folders: digits and text are not mirror symmetric).")
  var flip = false

  @Flag(name: .customLong("no-flip"), help: "Never mirror training images.")
  var noFlip = false

  @Option(help: "How the ViT turns the image into tokens: conv (a convolutional stem, Xiao et al. 2021) or patchify (the plain ViT's linear patch projection).")
  var stem = ViTShape().stem

  @Option(help: "What the classifier reads: map (an attention-pooling head started as the patches' mean, timm's global_pool='map'; its attention is the model's map), avg (the patches' mean) or token (a class token).")
  var pool = ViTShape().pool

  @Option(name: .customLong("stem-refining"), help: "Stride-1 3x3 convolutions the conv stem adds at the token grid's resolution.")
  var stemRefining = ViTShape().stemRefining

  @Option(name: .customLong("run-dir"), help: "Folder for checkpoints, figures and metrics.json.")
  var runDir = "runs/patch-classify"

  @Flag(help: "Continue the run in --run-dir from its checkpoint.")
  var resume = false

  @Option(help: "Seed of data generation, initialisation, shuffling and augmentation.")
  var seed: UInt64 = 0

  @Option(name: .customLong("batch-size"), help: "Images per step.")
  var batchSize = TrainingConfiguration().batchSize

  @Option(name: .customLong("learning-rate"), help: "Peak AdamW learning rate (linear warmup, then cosine decay).")
  var learningRate = TrainingConfiguration().learningRate

  @Option(name: .customLong("warmup-epochs"), help: "Epochs of linear warmup (default: a tenth of the epochs, at least half of one).")
  var warmupEpochs: Double?

  @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay.")
  var weightDecay = TrainingConfiguration().weightDecay

  @Option(name: .customLong("label-smoothing"), help: "Label smoothing of the cross-entropy.")
  var labelSmoothing = TrainingConfiguration().labelSmoothing

  @Flag(name: .customLong("no-augment"), help: "Train without random crops and flips.")
  var noAugment = false

  @Option(name: .customLong("image-size"), help: "Training images are this many pixels a side.")
  var imageSize = ViTShape().imageSize

  @Option(name: .customLong("patch-size"), help: "Patch side in pixels (default: \(ViTShape().patchSize) for vit, \(SwinShape().patchSize) for swin).")
  var patchSizeOption: Int?

  @Option(help: "Embedding width: the ViT's, or the Swin's first stage, doubled at each later stage (default: \(ViTShape().width) for vit, \(SwinShape().width) for swin).")
  var width: Int?

  @Option(help: "ViT blocks.")
  var depth = ViTShape().depth

  @Option(
    name: [.customLong("head-count"), .customLong("heads")],
    help: "Attention heads: the ViT's, or the Swin's first stage, doubled at each later stage (default: \(ViTShape().heads) for vit, \(SwinShape().heads) for swin; --heads: the former name).")
  var heads: Int?

  @Option(
    name: .customLong("stage-depths"), parsing: .upToNextOption,
    help: "Swin: blocks per stage, one number per stage, a patch merging between stages (default: \(SwinShape().depths.map(String.init).joined(separator: " "))).")
  var stageDepths: [Int] = []

  @Option(help: "Swin: window side in cells, clamped to a smaller map as timm does (default: \(SwinShape().window)).")
  var window: Int?

  @Option(help: "ViT position embeddings: learned, sincos (fixed 2D sin-cos) or none.")
  var position = ViTShape().position

  @Option(name: .customLong("train-size"), help: "ShapeWorld training images.")
  var trainSize = 20_000

  @Option(name: .customLong("val-size"), help: "ShapeWorld validation images.")
  var valSize = 2_000

  @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints.")
  var checkpointEvery = TrainingConfiguration().checkpointEvery

  @Option(help: "Compute threads (default: the processors this process may run on).")
  var threads: Int?

  @Option(name: .customLong("export-shapeworld"), help: "Write the ShapeWorld train and validation images as an image folder (DIR/train/<class>/*.png, DIR/val/...) and exit, e.g. to train a PyTorch model on the very same data.")
  var exportShapeWorld: String?

  @Option(name: .customLong("export-masks"), help: "With --export-shapeworld: also write each object's mask as a grey PNG at the same relative path under this folder (the layout --masks reads).")
  var exportMasks: String?

  /// `--patch-size`, or the chosen model's default.
  var patchSize: Int { patchSizeOption ?? (model == .swin ? SwinShape().patchSize : ViTShape().patchSize) }
  /// `--width`, or the chosen model's default.
  var resolvedWidth: Int { width ?? (model == .swin ? SwinShape().width : ViTShape().width) }
  /// `--head-count`, or the chosen model's default.
  var resolvedHeads: Int { heads ?? (model == .swin ? SwinShape().heads : ViTShape().heads) }

  /// The Swin the options describe.
  var swinShape: SwinShape {
    var shape = SwinShape()
    shape.patchSize = patchSize
    shape.width = resolvedWidth
    shape.heads = resolvedHeads
    if !stageDepths.isEmpty { shape.depths = stageDepths }
    if let window { shape.window = window }
    return shape
  }

  func validate() throws {
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    guard budget > 0, budget.isFinite else { throw ValidationError("--budget must be a positive number of minutes, got \(budget)") }
    if let warmupEpochs, !(warmupEpochs >= 0) { throw ValidationError("--warmup-epochs must be 0 or more, got \(warmupEpochs)") }
    guard !(flip && noFlip) else { throw ValidationError("--flip and --no-flip contradict each other") }
    guard stemRefining >= 0 else { throw ValidationError("--stem-refining must be 0 or more, got \(stemRefining)") }
    if model != .swin && (!stageDepths.isEmpty || window != nil) { throw ValidationError("--stage-depths and --window are Swin options; add --model swin") }
    if model == .swin {
      guard stageDepths.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--stage-depths must all be at least 1, got \(stageDepths)") }
      if let window, window < 1 { throw ValidationError("--window must be at least 1, got \(window)") }
    }
    guard patchSize >= 1, resolvedWidth >= 1, resolvedHeads >= 1 else { throw ValidationError("--patch-size, --width and --head-count must be at least 1") }
    guard imageSize % patchSize == 0 else { throw ValidationError("--image-size \(imageSize) must be a multiple of --patch-size \(patchSize)") }
    if model == .vit && stem == .conv && ConvStemShape.strided(patchSize: patchSize, width: resolvedWidth) == nil {
      throw ValidationError("--stem conv needs a --patch-size that is a power of 2 (stride-2 convolutions), got \(patchSize); use --stem patchify")
    }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    guard resolvedWidth % resolvedHeads == 0 else { throw ValidationError("--width \(resolvedWidth) must divide into --head-count \(resolvedHeads)") }
    guard trainSize >= batchSize, valSize >= 1 else { throw ValidationError("--train-size must be at least --batch-size and --val-size at least 1") }
    guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if masks != nil && data == "shapeworld" { throw ValidationError("--masks is for image folders; ShapeWorld brings its own masks") }
    if masks != nil && exportShapeWorld != nil { throw ValidationError("--masks reads masks; --export-masks writes them") }
    if exportMasks != nil && exportShapeWorld == nil { throw ValidationError("--export-masks goes with --export-shapeworld") }
    if model == .vit && position == .sincos && resolvedWidth % 4 != 0 { throw ValidationError("--position sincos needs a --width divisible by 4") }
  }

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    AllocatorTuning.keepFreedMemoryForReuse()
    var options = RunOptions()
    options.data = data == "shapeworld" ? .shapeWorld(train: trainSize, validation: valSize) : .folder(data)
    options.model = model
    options.vit.imageSize = imageSize
    options.vit.patchSize = patchSize
    options.vit.width = resolvedWidth
    options.vit.depth = depth
    options.vit.heads = resolvedHeads
    options.swin = swinShape
    options.vit.position = position
    options.schedule = epochs.map { .epochs($0) } ?? .budget(minutes: budget)
    options.flips = flip ? true : noFlip ? false : nil
    options.vit.stem = stem
    options.vit.stemRefining = stemRefining
    options.vit.pool = pool
    options.training.batchSize = batchSize
    options.training.learningRate = learningRate
    options.warmupEpochs = warmupEpochs
    options.training.weightDecay = weightDecay
    options.training.labelSmoothing = labelSmoothing
    options.training.augment = !noAugment
    options.training.seed = seed
    options.training.checkpointEvery = checkpointEvery
    options.runDirectory = runDir
    options.resume = resume
    options.masks = masks

    if let exportShapeWorld {
      try ShapeWorldExport.write(to: exportShapeWorld, imageSize: imageSize, seed: seed, train: trainSize, validation: valSize, masks: exportMasks)
      print("wrote \(trainSize) training and \(valSize) validation images under \(exportShapeWorld)" + (exportMasks.map { ", their masks under \($0)" } ?? ""))
      return
    }
    var run = ClassificationRun(options: options)
    let bar = TrainingProgressBar()
    run.onStep = bar.update
    // Unbuffered, so the log lines (data, schedule, model) reach a redirected log file as
    // they happen rather than when the run ends.
    run.log = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
    let metrics: RunMetrics
    do {
      metrics = try run.run()
    } catch {
      bar.finish()
      FileHandle.standardError.write(Data("patch-classify: \(error.description)\n".utf8))
      throw ExitCode.failure
    }
    bar.finish()
    print(Summary(metrics).text)
    print("wrote \(runDir)/metrics.json, curves.png, confusion.png, attention.png and checkpoint/")
  }
}
