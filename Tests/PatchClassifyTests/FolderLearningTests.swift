import Foundation
import Testing
import VAImageIO
import VAModels
import VATensorCore
@testable import PatchClassifyKit

/// The default ViT on a folder the project never trained on: the committed toy folder
/// (Fixtures/toy-digits: 300 16-pixel handwritten digits, 30 of each, from scikit-learn's
/// digits via Scripts/data/make_small_folders.py), with the folder defaults (convolutional
/// stem, attention pooling started as the mean, no flips).
struct FolderLearningTests {
  static let toyFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/toy-digits").path

  /// 280 steps must take the held-out accuracy far above chance (1/10). (The same run with
  /// `--stem patchify`, the plain ViT, ends near 37%: the release binary on this folder,
  /// `--image-size 16 --patch-size 4 --width 64 --depth 1 --heads 2 --batch-size 32 --epochs 40`.)
  @Test func theDefaultViTLearnsTheToyFolder() throws {
    let (train, validation) = try ImageFolder.loadSplit(Self.toyFolder, size: 16)
    #expect((train.count, validation.count) == (240, 60))
    var shape = ViTShape()
    (shape.imageSize, shape.patchSize, shape.width, shape.depth, shape.heads) = (16, 4, 64, 1, 2)
    #expect(shape.stem == .conv)
    var rng = SplitMix64(seed: 0)
    let model = ViTClassifier(shape.model(classes: train.classNames.count, using: &rng))
    var c = TrainingConfiguration()
    (c.epochs, c.batchSize, c.learningRate, c.warmupEpochs, c.flip) = (40, 32, 1e-3, 3, false)
    var trainer = Trainer(model: model, train: train, validation: validation, configuration: c, store: nil)
    try trainer.run()
    #expect(trainer.progress.step == 280)
    var trained = trainer.model
    let accuracy = Evaluation.accuracy(of: &trained, on: validation, batchSize: 30)
    #expect(accuracy >= 0.75, "held-out accuracy \(accuracy) after 280 steps (chance: 0.1)")
  }

  @Test func theScheduleFollowsTheFoldersSize() {
    #expect(SchedulePlan.epochs(forTrainingImages: 1_440) == 150)  // 208 passes asked, capped
    #expect(SchedulePlan.epochs(forTrainingImages: 2_400) == 125)
    #expect(SchedulePlan.epochs(forTrainingImages: 20_000) == 15)
    #expect(SchedulePlan.epochs(forTrainingImages: 1_000_000) == 10)
    // 125 epochs asked; an epoch costs 6 s and 700 s are left: the budget decides.
    let tight = SchedulePlan.plan(trainingImages: 2_400, secondsLeft: 700, secondsPerEpoch: 6)
    #expect((tight.epochs, tight.reason) == (116, .budget))
    let roomy = SchedulePlan.plan(trainingImages: 2_400, secondsLeft: 7_000, secondsPerEpoch: 6)
    #expect((roomy.epochs, roomy.reason) == (125, .dataSize))
    // No budget left still trains one epoch rather than none.
    #expect(SchedulePlan.plan(trainingImages: 2_400, secondsLeft: -5, secondsPerEpoch: 6).epochs == 1)
  }

  /// Without --flip, folder runs never mirror; ShapeWorld runs still do.
  @Test func flipsAreOffForFoldersByDefault() {
    let image = Image(width: 4, height: 1, channels: 3, pixels: (0..<12).map { UInt8($0 * 20) })
    var maker = BatchMaker(mean: [0, 0, 0], std: [1, 1, 1])
    maker.cropPadding = 0
    var mirroredOnce = false
    for seed in 0..<16 {
      var rng = SplitMix64(seed: UInt64(seed))
      let plain = maker.tensor([image]).scalars
      #expect(zip(maker.augmentedTensor([image], flips: false, using: &rng).scalars, plain).allSatisfy { abs($0 - $1) < 1e-6 })
      var again = SplitMix64(seed: UInt64(seed))
      mirroredOnce = mirroredOnce || zip(maker.augmentedTensor([image], flips: true, using: &again).scalars, plain).contains { abs($0 - $1) > 0.1 }
    }
    #expect(mirroredOnce)
    var options = RunOptions()
    options.data = .folder(Self.toyFolder)
    #expect(ClassificationRun(options: options).flipsByDefault == false)
    options.data = .shapeWorld(train: 10, validation: 10)
    #expect(ClassificationRun(options: options).flipsByDefault == true)
    options.flips = false
    #expect(ClassificationRun(options: options).flipsByDefault == false)
  }
}
