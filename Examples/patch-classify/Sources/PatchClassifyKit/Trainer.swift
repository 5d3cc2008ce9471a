import Foundation
import VATensorCore

/// How a model is trained. The defaults are the recipe of the shipped ShapeWorld ViT.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
  public var epochs = 12
  public var batchSize = 64
  /// AdamW's rate at the end of warmup (then cosine decay to zero).
  public var learningRate: Float = 1e-3
  /// Epochs of linear warmup (a run without `--warmup-epochs` uses a tenth of its epochs,
  /// at least half of one: see `RunOptions.warmupEpochs`).
  public var warmupEpochs: Double = 0.5
  public var weightDecay: Float = 0.05
  public var labelSmoothing: Float = 0.1
  /// Global gradient-norm clip.
  public var clipNorm: Float = 1
  /// Random crops (±4 pixels, reflected).
  public var augment = true
  /// Left-right flips, half of the images, when `augment` is on (off for digits, text and
  /// anything else that is not mirror-symmetric).
  public var flip = true
  public var seed: UInt64 = 0
  /// Optimiser steps between checkpoints (and one after each epoch).
  public var checkpointEvery = 200

  public init() {}
}

extension TrainingConfiguration {
  private enum CodingKeys: String, CodingKey {
    case epochs, batchSize, learningRate, warmupEpochs, weightDecay, labelSmoothing, clipNorm, augment, flip, seed, checkpointEvery
  }

  /// Reads a saved configuration. `flip` came later than the others: a state saved before it
  /// existed flipped whenever it augmented, so a missing `flip` is `augment`, and such a run
  /// resumes as it trained.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    epochs = try c.decode(Int.self, forKey: .epochs)
    batchSize = try c.decode(Int.self, forKey: .batchSize)
    learningRate = try c.decode(Float.self, forKey: .learningRate)
    warmupEpochs = try c.decode(Double.self, forKey: .warmupEpochs)
    weightDecay = try c.decode(Float.self, forKey: .weightDecay)
    labelSmoothing = try c.decode(Float.self, forKey: .labelSmoothing)
    clipNorm = try c.decode(Float.self, forKey: .clipNorm)
    augment = try c.decode(Bool.self, forKey: .augment)
    flip = try c.decodeIfPresent(Bool.self, forKey: .flip) ?? augment
    seed = try c.decode(UInt64.self, forKey: .seed)
    checkpointEvery = try c.decode(Int.self, forKey: .checkpointEvery)
  }
}

/// Per-epoch and per-step records of a run (what the curves figure draws).
public struct TrainingHistory: Codable, Sendable, Equatable {
  public struct Epoch: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double
    /// Wall seconds of the training loop at the end of the epoch (its validation included).
    public var seconds: Double
  }
  public var epochs: [Epoch] = []
  /// Training loss of every step.
  public var stepLosses: [Float] = []
  public init() {}
}

/// What the progress callback sees after each step.
public struct StepReport: Sendable {
  public var epoch: Int, epochs: Int
  public var step: Int, totalSteps: Int
  /// Means over the current epoch so far.
  public var loss: Double, accuracy: Double
  public var imagesPerSecond: Double
  public var secondsLeft: Double
}

/// Mini-batch training with AdamW, linear warmup and cosine decay, label smoothing and
/// gradient clipping, checkpointing through a `CheckpointStore`.
///
/// Runs are reproducible: epoch `e`'s order is a shuffle seeded by `(seed, e)` and step
/// `s`'s augmentation by `(seed, s)`, so a resumed run takes exactly the batches the
/// uninterrupted one would have.
public struct Trainer<Model: ImageClassifier> {
  public var model: Model
  public let train: LabeledImages
  public let validation: LabeledImages
  public let configuration: TrainingConfiguration
  public var optimizer: AdamW
  public var progress: TrainerProgress
  public let store: CheckpointStore?

  public init(model: Model, train: LabeledImages, validation: LabeledImages, configuration: TrainingConfiguration, store: CheckpointStore?) {
    precondition(train.count >= configuration.batchSize, "\(train.count) training images for batches of \(configuration.batchSize)")
    self.model = model
    self.train = train
    self.validation = validation
    self.configuration = configuration
    self.store = store
    optimizer = AdamW(weightDecay: configuration.weightDecay)
    progress = TrainerProgress(step: 0, history: TrainingHistory(), trainSeconds: 0, stepSeconds: 0, configuration: configuration)
    model.setRequiresGrad(true)
  }

  /// Steps per epoch: whole batches only (the remainder of each shuffle is left out).
  public var stepsPerEpoch: Int { train.count / configuration.batchSize }
  public var totalSteps: Int { stepsPerEpoch * configuration.epochs }

  /// Continues from the store's checkpoint.
  public mutating func resume() throws(CheckpointStoreError) {
    guard let store else { return }
    progress = try store.restore(into: &model, optimizer: &optimizer, expecting: configuration)
  }

  /// Trains until `totalSteps` (from wherever `progress` stands), checkpointing as it goes.
  /// `stopAfter` ends early after that many steps of this call (tests interrupt runs so).
  public mutating func run(stopAfter: Int? = nil, report: (StepReport) -> Void = { _ in }) throws(CheckpointStoreError) {
    let c = configuration
    let schedule = LearningRateSchedule(
      peak: c.learningRate, warmupSteps: min(totalSteps, Int(c.warmupEpochs * Double(stepsPerEpoch))), totalSteps: totalSteps)
    let batches = BatchMaker(mean: model.mean, std: model.std)
    let noDecay = model.parametersWithoutWeightDecay
    var (epochLoss, epochCorrect, epochSeen) = (0.0, 0, 0)
    var stepsThisCall = 0
    let started = Date()
    let secondsBefore = progress.trainSeconds
    while progress.step < totalSteps && stepsThisCall < (stopAfter ?? .max) {
      let stepStarted = Date()
      let epoch = progress.step / stepsPerEpoch, within = progress.step % stepsPerEpoch
      if within == 0 { (epochLoss, epochCorrect, epochSeen) = (0, 0, 0) }
      let order = Self.shuffled(count: train.count, seed: c.seed, epoch: epoch)
      let indices = Array(order[(within * c.batchSize)..<((within + 1) * c.batchSize)])
      var rng = SplitMix64(seed: c.seed ^ (UInt64(progress.step) &* 0xD1B5_4A32_D192_ED03))
      let images = indices.map { train.images[$0] }
      let input = c.augment ? batches.augmentedTensor(images, flips: c.flip, using: &rng) : batches.tensor(images)
      let labels = indices.map { train.labels[$0] }

      model.zeroGradients()
      let logits = model.logits(input, training: true)
      let loss = crossEntropy(logits: logits, labels: labels, labelSmoothing: c.labelSmoothing)
      loss.backward()
      clipGradientNorm(model.parameters, maxNorm: c.clipNorm)
      optimizer.step(model.parameters, learningRate: schedule(progress.step), excludingWeightDecay: noDecay)

      progress.step += 1
      stepsThisCall += 1
      progress.stepSeconds += Date().timeIntervalSince(stepStarted)
      progress.history.stepLosses.append(loss.item)
      epochLoss += Double(loss.item) * Double(labels.count)
      epochCorrect += zip(Evaluation.argmaxRows(logits), labels).filter { $0 == $1 }.count
      epochSeen += labels.count
      progress.trainSeconds = secondsBefore + Date().timeIntervalSince(started)
      let rate = Double(progress.step * c.batchSize) / max(1e-9, progress.stepSeconds)
      report(
        StepReport(
          epoch: epoch, epochs: c.epochs, step: progress.step, totalSteps: totalSteps,
          loss: epochLoss / Double(epochSeen), accuracy: Double(epochCorrect) / Double(epochSeen),
          imagesPerSecond: rate, secondsLeft: Double((totalSteps - progress.step) * c.batchSize) / max(rate, 1e-9)))

      let endOfEpoch = progress.step % stepsPerEpoch == 0
      if endOfEpoch {
        let validationAccuracy = Evaluation.accuracy(of: &model, on: validation, batchSize: c.batchSize)
        progress.history.epochs.append(
          TrainingHistory.Epoch(
            epoch: epoch + 1, trainLoss: epochLoss / Double(epochSeen), trainAccuracy: Double(epochCorrect) / Double(epochSeen),
            validationAccuracy: validationAccuracy, seconds: progress.trainSeconds))
      }
      if let store, endOfEpoch || progress.step % c.checkpointEvery == 0 || progress.step == totalSteps {
        try store.save(model, optimizer: optimizer, progress: progress)
      }
    }
  }

  /// Seconds of one whole training step (augmentation, forward, backward, clipping, AdamW's
  /// update) and of evaluating one image, each the median of three runs after a warm-up on
  /// the first training batch. Leaves the model as it was: parameters and buffers are put
  /// back and the optimiser starts afresh, so a measured run trains exactly as an unmeasured one.
  public mutating func measureCosts() -> (secondsPerStep: Double, secondsPerValidationImage: Double) {
    let c = configuration
    let batches = BatchMaker(mean: model.mean, std: model.std)
    let images = Array(train.images.prefix(c.batchSize)), labels = Array(train.labels.prefix(c.batchSize))
    let saved = (model.namedParameters + model.namedBuffers).map { ($0.tensor, $0.tensor.scalars) }
    let noDecay = model.parametersWithoutWeightDecay
    func median(_ body: () -> Void) -> Double {
      body()
      var times: [Double] = []
      for _ in 0..<3 {
        let started = Date()
        body()
        times.append(Date().timeIntervalSince(started))
      }
      return times.sorted()[1]
    }
    let step = median {
      var rng = SplitMix64(seed: 0)
      let input = batches.augmentedTensor(images, flips: c.flip, using: &rng)
      model.zeroGradients()
      crossEntropy(logits: model.logits(input, training: true), labels: labels, labelSmoothing: c.labelSmoothing).backward()
      clipGradientNorm(model.parameters, maxNorm: c.clipNorm)
      optimizer.step(model.parameters, learningRate: 0, excludingWeightDecay: noDecay)
    }
    let evaluation = median { _ = withGradientsDisabled { model.logits(batches.tensor(images), training: false) } }
    model.zeroGradients()
    for (tensor, scalars) in saved { tensor.scalars = scalars }
    optimizer = AdamW(weightDecay: c.weightDecay)
    return (step, evaluation / Double(images.count))
  }

  /// Epoch `epoch`'s order of `count` indices (Fisher–Yates with a generator seeded by both).
  static func shuffled(count: Int, seed: UInt64, epoch: Int) -> [Int] {
    var rng = SplitMix64(seed: seed &+ 0x5851_F42D_4C95_7F2D &* UInt64(epoch + 1))
    var order = Array(0..<count)
    order.shuffle(using: &rng)
    return order
  }
}
