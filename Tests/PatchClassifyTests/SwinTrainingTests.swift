import Foundation
import Testing
import VAModels
import VATensorCore
@testable import PatchClassifyKit

/// `--model swin`: training, saving in timm's layout and reading it back. Small enough for a
/// debug build: 32-pixel ShapeWorld, a Swin of width 16 in two stages of two blocks (stage 0 an
/// 8x8 map in four shifted 4x4 windows, stage 1 a 4x4 map in one window).
struct SwinTrainingTests {
  static let world = ShapeWorld(imageSize: 32, seed: 3)
  static let validation = LabeledImages(world, range: 10_000..<10_016)

  static func model(seed: UInt64 = 1, labelNames: [String]? = nil) -> SwinClassifier {
    var shape = SwinShape()
    (shape.width, shape.heads, shape.depths, shape.window) = (16, 1, [2, 2], 4)
    var rng = SplitMix64(seed: seed)
    return SwinClassifier(shape.model(classes: 6, imageSize: 32, using: &rng), imageSize: 32, labelNames: labelNames)
  }

  static func scratch() -> String { NSTemporaryDirectory() + "patch-classify-swin-" + UUID().uuidString }

  /// Forty steps on one batch of 16 images: the loss starts at chance (ln 6 ≈ 1.79, the
  /// head's logits near zero at timm's init) and the model must fit the batch, so the mean of
  /// the last five steps falls below half the first step's, where a broken backward or a
  /// parameter missing from `namedParameters` (never updated) would leave it.
  @Test func lossFallsOnAHandfulOfImages() throws {
    var c = TrainingConfiguration()
    (c.epochs, c.batchSize, c.learningRate, c.warmupEpochs, c.augment, c.labelSmoothing) = (40, 16, 3e-3, 2, false, 0)
    let batch = LabeledImages(Self.world, range: 0..<16)
    var trainer = Trainer(model: Self.model(), train: batch, validation: Self.validation, configuration: c, store: nil)
    try trainer.run()
    let losses = trainer.progress.history.stepLosses
    #expect(losses.count == 40)
    let first = Double(losses[0]), last = losses.suffix(5).reduce(0) { $0 + Double($1) } / 5
    #expect(abs(first - log(6)) < 0.1, "first loss \(first) is not chance")
    #expect(last < 0.5 * first, "loss went from \(first) to \(last)")
    #expect(trainer.progress.history.epochs.last!.trainAccuracy > 0.5)
  }

  /// Two training steps, saved in timm's layout: `SwinTransformer.load` and `SavedClassifier`
  /// (what `patch-classify evaluate` and `vit-attend --weights` read) give the very logits of the
  /// model in memory, and `config.json` names the architecture and arguments timm builds it from.
  @Test func savedModelReadsBackWithTheSameLogits() throws {
    var c = TrainingConfiguration()
    (c.epochs, c.batchSize, c.augment) = (1, 8, false)
    let names = ShapeWorld.classes.map(\.rawValue)
    var trainer = Trainer(model: Self.model(labelNames: names), train: LabeledImages(Self.world, range: 0..<16), validation: Self.validation, configuration: c, store: nil)
    let before = trainer.model.model.namedParameters.map(\.tensor.scalars)
    try trainer.run()
    #expect(trainer.progress.step == 2)
    #expect(zip(before, trainer.model.model.namedParameters.map(\.tensor.scalars)).allSatisfy { $0 != $1 }, "a parameter did not move in two steps")

    let folder = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try trainer.model.save(to: folder)
    let images = BatchMaker(mean: trainer.model.mean, std: trainer.model.std).tensor(Self.validation.images)
    let expected = withGradientsDisabled { trainer.model.logits(images, training: false) }
    let loaded = try SwinTransformer.load(from: folder)
    let (l, m) = (loaded.configuration, trainer.model.model.configuration)
    #expect(l.patchSize == m.patchSize && l.embedDimension == m.embedDimension && l.depths == m.depths && l.heads == m.heads && l.windows == m.windows)
    #expect(l.mean == m.mean && l.std == m.std && l.windowPolicy == .timm)
    #expect(try withGradientsDisabled { try loaded(batch: images).logits! }.scalars == expected.scalars)

    let saved = try SavedClassifier(loading: folder)
    #expect(saved.kind == "swin" && saved.inputSize == 32 && saved.classCount == 6 && saved.labelNames == names)
    guard case .swin(var classifier) = saved.network else {
      Issue.record("loaded as \(saved.kind), not a Swin")
      return
    }
    #expect(withGradientsDisabled { classifier.logits(images, training: false) }.scalars == expected.scalars)

    let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as? [String: Any])
    #expect(config["architecture"] as? String == "swin_tiny_patch4_window7_224")
    let args = try #require(config["model_args"] as? [String: Any])
    #expect(args["img_size"] as? Int == 32 && args["patch_size"] as? Int == 4 && args["embed_dim"] as? Int == 16 && args["window_size"] as? Int == 4)
    #expect(args["depths"] as? [Int] == [2, 2] && args["num_heads"] as? [Int] == [1, 2] && args["num_classes"] as? Int == 6)
  }

  /// A model whose tables were sized for other images is refused rather than saved with an
  /// `img_size` timm would build other windows for: at 16 pixels stage 1 is a 2x2 map, whose
  /// window timm clamps to 2x2, but the tables were made for 4x4 windows at 32 pixels.
  @Test func savingForAnotherImageSizeIsRefused() throws {
    let model = Self.model(), folder = Self.scratch()
    #expect(throws: CheckpointError.self) { try model.model.save(to: folder, imageSize: 16) }
    #expect(!FileManager.default.fileExists(atPath: folder), "a refused save left files behind")
  }

  /// Evidence maps cover the last stage's cells; the class activation map's mean plus the
  /// head's bias is the predicted logit (exact for the mean-pooled linear head), and the
  /// attention each cell receives sums to one per window (each query's row sums to one).
  @Test func evidenceMapsAreTheLastStagesCells() throws {
    var model = Self.model()
    let images = BatchMaker(mean: model.mean, std: model.std).tensor(Array(Self.validation.images.prefix(2)))
    let logits = withGradientsDisabled { model.logits(images, training: false) }
    let evidence = withGradientsDisabled { model.evidence(images) }
    for (i, maps) in evidence.enumerated() {
      #expect(maps.gridWidth == 4 && maps.gridHeight == 4 && maps.maps.map(\.name) == ["cam", "attn"])
      let row = Array(logits.scalars[(i * 6)..<(i * 6 + 6)])
      let k = row.indices.max { row[$0] < row[$1] }!
      let cam = maps.maps[0].values.reduce(0, +) / 16 + model.model.head!.bias!.scalars[k]
      #expect(abs(cam - row[k]) < 1e-5 * max(1, abs(row[k])), "image \(i): CAM mean \(cam), logit \(row[k])")
      #expect(abs(maps.maps[1].values.reduce(0, +) - 1) < 1e-5, "image \(i): one window's attention received sums to 1")
    }
  }
}
