import Foundation
import VAModels
import VATensorCore
import Testing
@testable import PatchClassifyKit

/// Small enough for a debug build: 32-pixel ShapeWorld, a one-block ViT of width 32.
struct TrainerTests {
  static let world = ShapeWorld(imageSize: 32, seed: 3)
  static let train = LabeledImages(world, range: 0..<192)
  static let validation = LabeledImages(world, range: 10_000..<10_048)

  static func model(seed: UInt64 = 1) -> ViTClassifier {
    var shape = ViTShape()
    (shape.imageSize, shape.patchSize, shape.width, shape.depth, shape.heads) = (32, 8, 32, 1, 2)
    var rng = SplitMix64(seed: seed)
    return ViTClassifier(shape.model(classes: 6, using: &rng))
  }

  static func configuration(epochs: Int) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    (c.epochs, c.batchSize, c.learningRate, c.warmupEpochs, c.checkpointEvery) = (epochs, 32, 3e-3, 0.5, 3)
    return c
  }

  static func scratch() -> String { NSTemporaryDirectory() + "patch-classify-" + UUID().uuidString }

  /// A hundred steps on one batch of 32 images: the model must fit them, so the loss falls
  /// from chance (ln 6 ≈ 1.79) to a fraction of it, where a broken backward or update would
  /// leave it. (Fitting a larger set is slow for a ViT at this size: timm's, through
  /// Benchmarks/scripts/train_timm.py with the same recipe and data, is as slow.)
  @Test func lossFallsClearly() throws {
    var c = Self.configuration(epochs: 100)
    (c.augment, c.labelSmoothing, c.learningRate, c.warmupEpochs) = (false, 0, 1e-2, 5)
    let batch = LabeledImages(Self.world, range: 0..<32)
    var trainer = Trainer(model: Self.model(), train: batch, validation: Self.validation, configuration: c, store: nil)
    try trainer.run()
    let losses = trainer.progress.history.stepLosses
    #expect(losses.count == 100)
    // The first step is at chance; the convolutional stem learns within a few steps, so the
    // first ten are not all there.
    let first = losses[0], last = losses.suffix(10).reduce(0, +) / 10
    #expect(first > 1.6 && last < 0.5 * first, "loss went from \(first) to \(last)")
  }

  /// An interrupted run resumed from its checkpoint ends with exactly the weights of a run
  /// that was never interrupted (same batches, same augmentation, same optimiser state).
  @Test func resumeContinuesFromTheSavedStep() throws {
    let c = Self.configuration(epochs: 2)  // 12 steps, checkpoints at 3, 6 (epoch end), 9, 12
    var whole = Trainer(model: Self.model(), train: Self.train, validation: Self.validation, configuration: c, store: nil)
    try whole.run()

    let dir = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var first = Trainer(model: Self.model(), train: Self.train, validation: Self.validation, configuration: c, store: CheckpointStore(runDirectory: dir))
    try first.run(stopAfter: 8)  // "crash" at step 8: the checkpoint holds step 6
    var second = Trainer(model: Self.model(seed: 99), train: Self.train, validation: Self.validation, configuration: c, store: CheckpointStore(runDirectory: dir))
    try second.resume()
    #expect(second.progress.step == 6)
    try second.run()
    #expect(second.progress.step == 12)
    for ((name, a), (_, b)) in zip(whole.model.namedParameters, second.model.namedParameters) {
      #expect(a.scalars == b.scalars, "\(name) differs after resuming")
    }
  }

  /// A configuration saved before `flip` existed (flips came with every augmented run) reads
  /// back with `flip` equal to `augment`; one that has it keeps it; the round trip is exact.
  @Test func configurationsSavedBeforeFlipResumeAsTheyTrained() throws {
    var c = TrainingConfiguration()
    c.flip = false
    let saved = try JSONEncoder().encode(c)
    #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: saved) == c)
    var old = try #require(try JSONSerialization.jsonObject(with: saved) as? [String: Any])
    old["flip"] = nil
    for augment in [true, false] {
      old["augment"] = augment
      let read = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: old))
      #expect(read.flip == augment && read.augment == augment)
    }
    old["epochs"] = nil
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: old)) }
  }

  /// The checkpoint loads back, by the trainer and by `VisionTransformer.load` (what
  /// `vit-attend --weights` uses), with identical logits.
  @Test func checkpointsRoundTrip() throws {
    let dir = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let c = Self.configuration(epochs: 1)
    var trainer = Trainer(model: Self.model(), train: Self.train, validation: Self.validation, configuration: c, store: CheckpointStore(runDirectory: dir))
    try trainer.run()
    let images = BatchMaker(mean: trainer.model.mean, std: trainer.model.std).tensor(Array(Self.validation.images.prefix(4)))
    let expected = withGradientsDisabled { trainer.model.logits(images, training: false) }

    var restored = Trainer(model: Self.model(seed: 5), train: Self.train, validation: Self.validation, configuration: c, store: CheckpointStore(runDirectory: dir))
    try restored.resume()
    #expect(withGradientsDisabled { restored.model.logits(images, training: false) }.scalars == expected.scalars)

    let loaded = try VisionTransformer.load(from: CheckpointStore(runDirectory: dir).folder).model
    #expect(withGradientsDisabled { loaded(batch: images).logits! }.scalars == expected.scalars)
  }

  @Test func resumingUnderOtherSettingsIsRefused() throws {
    let dir = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var trainer = Trainer(model: Self.model(), train: Self.train, validation: Self.validation, configuration: Self.configuration(epochs: 1), store: CheckpointStore(runDirectory: dir))
    try trainer.run(stopAfter: 3)
    var other = Self.configuration(epochs: 1)
    other.learningRate = 1e-2
    var resumed = Trainer(model: Self.model(), train: Self.train, validation: Self.validation, configuration: other, store: CheckpointStore(runDirectory: dir))
    #expect(throws: CheckpointStoreError.self) { try resumed.resume() }
  }
}
