import Foundation
import VAImageIO
import VAModels
import VATensorCore

/// Where a run's images come from (`--data`).
public enum DataSource: Sendable, Equatable {
  /// ShapeWorld, `train` and `validation` images (disjoint sample indices).
  case shapeWorld(train: Int, validation: Int)
  /// An `ImageFolder` root.
  case folder(String)
}

/// How long a run trains.
public enum ScheduleChoice: Sendable, Equatable {
  /// Exactly this many epochs (`--epochs`).
  case epochs(Int)
  /// As many epochs as the data set's size asks for and `minutes` of the whole run allow
  /// (`--budget`, see `SchedulePlan`).
  case budget(minutes: Double)
}

/// Everything one `patch-classify` run needs.
public struct RunOptions: Sendable {
  public var data = DataSource.shapeWorld(train: 20_000, validation: 2_000)
  public var model = ModelKind.vit
  public var vit = ViTShape()
  /// The Swin's shape (`--model swin`); its images are `vit.imageSize` pixels a side.
  public var swin = SwinShape()
  /// `training.epochs` is replaced by what this decides.
  public var schedule = ScheduleChoice.budget(minutes: 15)
  /// Left-right flips in augmentation; nil: on for ShapeWorld (its shapes are mirror
  /// symmetric as classes), off for folders (digits and text are not).
  public var flips: Bool?
  /// Epochs of warmup; nil: a tenth of the run's epochs, at least half of one (a fixed half
  /// epoch is a few dozen steps on a small folder, too few for a learning rate of 1e-3).
  public var warmupEpochs: Double?
  public var training = TrainingConfiguration()
  public var runDirectory = "runs/patch-classify"
  public var resume = false
  /// For a folder run, the folder of its images' object masks (`--masks`, see
  /// `ImageFolder.withMasks`): the validation images get them, for the pointing game.
  public var masks: String?
  /// Validation images drawn in `attention.png`.
  public var overlayCount = 8

  public init() {}
}

/// Errors of a run, each one clear message.
public enum RunError: Error, CustomStringConvertible {
  case checkpointExists(folder: String)
  case dataset(DatasetError)
  case checkpoint(CheckpointStoreError)
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .checkpointExists(let folder): "\(folder) already holds a checkpoint: pass --resume to continue it, or choose another --run-dir"
    case .dataset(let e): e.description
    case .checkpoint(let e): e.description
    case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
    }
  }
}

/// A whole run: data, model, training (or resuming), evaluation, figures and `metrics.json`.
public struct ClassificationRun {
  public let options: RunOptions
  public var log: (String) -> Void = { print($0) }
  public var onStep: (StepReport) -> Void = { _ in }

  public init(options: RunOptions) { self.options = options }

  /// ShapeWorld's validation samples start far past any training index, so the sets never overlap.
  public static let validationStart = 1_000_000_000

  public func run() throws(RunError) -> RunMetrics {
    let started = Date()
    let (train, validation, datasetName) = try loadData()
    log("data: \(datasetName), \(train.count) training and \(validation.count) validation images, \(train.classNames.count) classes")
    var rng = SplitMix64(seed: options.training.seed)
    if let configuration = options.model.convNet(classes: train.classNames.count) {
      return try fit(
        ConvNetClassifier(ConvNet(configuration, using: &rng), inputSize: options.vit.imageSize, labelNames: train.classNames),
        train, validation, datasetName, started: started)
    }
    if options.model == .swin {
      let size = options.vit.imageSize
      let model = options.swin.model(classes: train.classNames.count, imageSize: size, using: &rng)
      return try fit(SwinClassifier(model, imageSize: size, labelNames: train.classNames), train, validation, datasetName, started: started)
    }
    let model = options.vit.model(classes: train.classNames.count, using: &rng)
    return try fit(ViTClassifier(model, labelNames: train.classNames), train, validation, datasetName, started: started)
  }

  func loadData() throws(RunError) -> (LabeledImages, LabeledImages, String) {
    switch options.data {
    case .shapeWorld(let trainCount, let validationCount):
      let world = ShapeWorld(imageSize: options.vit.imageSize, seed: options.training.seed)
      return (
        LabeledImages(world, range: 0..<trainCount),
        LabeledImages(world, range: Self.validationStart..<(Self.validationStart + validationCount)), "shapeworld"
      )
    case .folder(let root):
      do {
        var (t, v) = try ImageFolder.loadSplit(root, size: options.vit.imageSize)
        if let masks = options.masks { v = try ImageFolder.withMasks(v, root: root, maskRoot: masks, size: options.vit.imageSize) }
        return (t, v, root)
      } catch {
        throw .dataset(error)
      }
    }
  }

  func fit<M: ImageClassifier & EvidenceProviding>(_ model: M, _ train: LabeledImages, _ validation: LabeledImages, _ datasetName: String, started: Date) throws(RunError) -> RunMetrics {
    let store = CheckpointStore(runDirectory: options.runDirectory)
    if store.exists && !options.resume { throw .checkpointExists(folder: options.runDirectory) }
    var configuration = options.training
    configuration.flip = flipsByDefault
    var trainer = Trainer(model: model, train: train, validation: validation, configuration: configuration, store: store)
    let plan = planSchedule(&trainer, store: store, started: started)
    let warmup = options.warmupEpochs ?? max(0.5, 0.1 * Double(plan.epochs))
    if plan.epochs != configuration.epochs || warmup != configuration.warmupEpochs {
      configuration.epochs = plan.epochs
      configuration.warmupEpochs = warmup
      trainer = Trainer(model: trainer.model, train: train, validation: validation, configuration: configuration, store: store)
    }
    if case .budget(let minutes) = options.schedule { log("schedule: \(plan.describe(budgetMinutes: minutes))") }
    do {
      if options.resume {
        try trainer.resume()
        log("resumed at step \(trainer.progress.step) of \(trainer.totalSteps)")
      }
      log("model: \(options.model.rawValue), \(trainer.model.parameterCount) parameters; \(trainer.totalSteps) steps of \(options.training.batchSize) on \(ComputeThreads.count) threads")
      try trainer.run(report: onStep)
    } catch {
      throw .checkpoint(error)
    }
    var trained = trainer.model
    let report = Evaluation.evaluate(&trained, on: validation, batchSize: options.training.batchSize)
    let p = trainer.progress
    let metrics = RunMetrics(
      model: options.model.rawValue, dataset: datasetName, classNames: train.classNames, report: report,
      epochs: configuration.epochs, steps: p.step, batchSize: configuration.batchSize,
      parameterCount: trained.parameterCount,
      imagesPerSecond: Double(p.step * options.training.batchSize) / max(p.stepSeconds, 1e-9),
      trainSeconds: p.trainSeconds, threads: ComputeThreads.count, seed: options.training.seed,
      settings: settingsRecord(configuration, plan: plan))
    try writeOutputs(metrics, history: p.history, stepsPerEpoch: trainer.stepsPerEpoch, model: &trained, validation: validation)
    return metrics
  }

  /// Whether training mirrors images: `options.flips`, else on for ShapeWorld and off for folders.
  var flipsByDefault: Bool {
    if let flips = options.flips { return flips }
    if case .shapeWorld = options.data { return true }
    return false
  }

  /// The run's epochs: `--epochs`, the schedule a resumed run started with, or a plan from
  /// the data set's size and what fits the budget, measured on the first batch.
  func planSchedule<M: ImageClassifier>(_ trainer: inout Trainer<M>, store: CheckpointStore, started: Date) -> SchedulePlan {
    let minutes: Double
    switch options.schedule {
    case .epochs(let epochs): return .given(epochs)
    case .budget(let budget): minutes = budget
    }
    if options.resume, let stored = try? store.storedConfiguration() {
      // The schedule was planned when the run started; resuming keeps it.
      return SchedulePlan(epochs: stored.epochs, reason: .given, epochsForDataSize: nil, epochsWithinBudget: nil)
    }
    let cost = trainer.measureCosts()
    let validationSeconds = Double(trainer.validation.count) * cost.secondsPerValidationImage
    // An epoch: its steps, its validation pass and its checkpoint (the weights and twice
    // their size in AdamW's moments: a second of a 15-minute budget per epoch on a small
    // folder, where epochs are many and short).
    let checkpointSeconds = 3 * Self.secondsToSave(trainer.model)
    let epochSeconds = (Double(trainer.stepsPerEpoch) * cost.secondsPerStep + validationSeconds + checkpointSeconds) * 1.05
    // Kept back for the final evaluation, figures and checkpoints, and a tenth of the
    // budget for a machine that slows down after the measurement (shared cores).
    let reserve = 10 + 3 * validationSeconds + 6 * minutes
    let left = minutes * 60 - Date().timeIntervalSince(started) - reserve
    return SchedulePlan.plan(trainingImages: trainer.train.count, secondsLeft: left, secondsPerEpoch: epochSeconds)
  }

  /// Seconds to write `model`'s checkpoint files once (into a temporary folder, then removed).
  static func secondsToSave(_ model: some ImageClassifier) -> Double {
    let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("patch-classify-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let started = Date()
    try? model.save(to: folder)
    return Date().timeIntervalSince(started)
  }

  /// Up to `count` validation indices for `attention.png`, taking each class in turn (a
  /// folder's validation images are sorted by class, so the first ones would all be one class).
  static func overlaySamples(labels: [Int], count: Int) -> [Int] {
    var byClass: [Int: [Int]] = [:]
    for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
    let classes = byClass.keys.sorted()
    var shown: [Int] = [], round = 0
    while shown.count < min(count, labels.count) {
      for c in classes where shown.count < count {
        if round < byClass[c]!.count { shown.append(byClass[c]![round]) }
      }
      round += 1
    }
    return shown
  }

  /// The options that shaped the run, for `metrics.json`.
  func settingsRecord(_ t: TrainingConfiguration, plan: SchedulePlan) -> [String: String] {
    let v = options.vit
    var out = [
      "learning_rate": "\(t.learningRate)", "warmup_epochs": "\(t.warmupEpochs)", "weight_decay": "\(t.weightDecay)",
      "label_smoothing": "\(t.labelSmoothing)", "augment": "\(t.augment)", "flip": "\(t.augment && t.flip)",
      "image_size": "\(v.imageSize)", "schedule": plan.reason.rawValue,
    ]
    if case .budget(let minutes) = options.schedule { out["budget_minutes"] = "\(minutes)" }
    if options.model == .vit {
      out.merge([
        "patch_size": "\(v.patchSize)", "width": "\(v.width)", "depth": "\(v.depth)", "heads": "\(v.heads)",
        "position_embedding": v.position.rawValue, "stem": v.stem.rawValue, "pool": v.pool.rawValue,
      ]) { $1 }
    }
    if options.model == .swin {
      let s = options.swin
      out.merge([
        "patch_size": "\(s.patchSize)", "width": "\(s.width)", "depths": s.depths.map(String.init).joined(separator: ","),
        "heads": "\(s.heads)", "window": "\(s.window)",
      ]) { $1 }
    }
    return out
  }

  /// `metrics.json`, `curves.png`, `confusion.png` and `attention.png`, each written atomically.
  func writeOutputs<M: ImageClassifier & EvidenceProviding>(_ metrics: RunMetrics, history: TrainingHistory, stepsPerEpoch: Int, model: inout M, validation: LabeledImages) throws(RunError) {
    let dir = options.runDirectory
    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    do {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      try AtomicFile.write([UInt8](try metrics.serialized()), to: path("metrics.json"))
      try RunFigures.curves(history, stepsPerEpoch: stepsPerEpoch).writePNG(to: path("curves.png"))
      try RunFigures.confusion(metrics.report.confusion, classNames: metrics.classNames).writePNG(to: path("confusion.png"))
      let shown = Self.overlaySamples(labels: validation.labels, count: options.overlayCount)
      if !shown.isEmpty {
        let sample = validation.subset(shown)
        let evidence = withGradientsDisabled { model.evidence(BatchMaker(mean: model.mean, std: model.std).tensor(sample.images)) }
        let predicted = Evaluation.predictions(of: &model, on: sample, batchSize: shown.count)
        let captions = zip(sample.labels, predicted).map { "\(sample.classNames[$0]) -> \(sample.classNames[$1])" }
        try RunFigures.overlays(images: sample.images, evidence: evidence, masks: sample.masks, captions: captions).writePNG(to: path("attention.png"))
      }
    } catch let error as ImageIOError {
      throw .writeFailed(path: dir, reason: error.description)
    } catch {
      throw .writeFailed(path: dir, reason: "\(error)")
    }
  }
}
