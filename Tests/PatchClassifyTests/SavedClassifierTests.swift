import Foundation
import VAImageIO
import VAModels
import VATensorCore
import Testing
@testable import PatchClassifyKit

/// The shipped model against timm on committed ShapeWorld validation samples, and
/// checkpoints that carry their class names.
///
/// Fixtures/shapeworld-val (images/<class>/<i>.png, masks/<class>/<i>.png, validation offset
/// i, seed 0, 64 pixels; timm_predictions.json) were written by
/// Scripts/reference/patch_classify_fixtures.py (timm 1.0.31, torch 2.15). Regenerate:
/// swift build --product patch-classify && python3 Scripts/reference/patch_classify_fixtures.py
struct SavedClassifierTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let fixture = repository + "/Tests/PatchClassifyTests/Fixtures/shapeworld-val"
  static let shipped = repository + "/Examples/patch-classify/model"

  struct Reference: Decodable {
    struct Prediction: Decodable { var source: String, label: String, predicted: String, logits: [Float] }
    var accuracy: Double
    var images: [Prediction]
  }

  static func reference() throws -> Reference {
    try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: fixture + "/timm_predictions.json")))
  }

  /// The committed images and masks are ShapeWorld's own validation samples (byte for byte),
  /// so the fixture cannot drift from the data the shipped model was validated on.
  @Test func theFixtureIsShapeWorldsValidationData() throws {
    let data = try ImageFolder.withMasks(
      try ImageFolder.load(Self.fixture + "/images", size: 64), root: Self.fixture + "/images",
      maskRoot: Self.fixture + "/masks", size: 64)
    let world = ShapeWorld(imageSize: 64, seed: 0)
    #expect(data.count == 25)
    for (i, source) in data.sources.enumerated() {
      let index = try #require(Int((source as NSString).lastPathComponent.dropLast(4)))
      let sample = world.sample(ClassificationRun.validationStart + index)
      #expect(data.images[i] == sample.image && data.masks?[i] == sample.mask, "\(source)")
      #expect(data.classNames[data.labels[i]] == sample.shape.rawValue)
    }
  }

  /// `evaluate`'s path (checkpoint loader, folder, class alignment by `label_names`) gives
  /// timm's predictions for every image, its logits within 1e-4, and so its accuracy.
  @Test func theShippedModelPredictsAsTimmDoes() throws {
    let reference = try Self.reference()
    var options = EvaluationOptions(weights: Self.shipped, data: .folder(Self.fixture + "/images"))
    options.split = .all
    let result = try CheckpointEvaluation.run(options)
    #expect(result.classNames == ShapeWorld.classes.map(\.rawValue))
    #expect(result.sources == reference.images.map(\.source))
    #expect(result.predictions.map { result.classNames[$0] } == reference.images.map(\.predicted))
    #expect(result.labels.map { result.classNames[$0] } == reference.images.map(\.label))
    #expect(result.report.accuracy == reference.accuracy && reference.accuracy == 0.96)
    #expect(result.report.pointingGame.isEmpty)  // no --masks: no pointing game

    // Logits, through the same loader: float32 GEMMs in another order, and the fixture's
    // logits rounded to 6 decimals, so a tolerance (logits are of order 1 to 5; the largest
    // difference measured here lies between 2e-6 and 1e-5; 1e-4 leaves room for other CPUs'
    // kernels).
    let saved = try SavedClassifier(loading: Self.shipped)
    guard case .vit(var model) = saved.network else { Issue.record("the shipped model is a ViT"); return }
    let data = try saved.align(try ImageFolder.load(Self.fixture + "/images", size: 64))
    let logits = withGradientsDisabled { model.logits(BatchMaker(mean: model.mean, std: model.std).tensor(data.images), training: false) }
    for (i, image) in reference.images.enumerated() {
      let ours = Array(logits.scalars[(i * 6)..<((i + 1) * 6)])
      #expect(zip(ours, image.logits).allSatisfy { abs($0 - $1) < 1e-4 }, "\(image.source): \(ours) against timm's \(image.logits)")
    }
  }

  /// The folder's masks score the pointing game exactly as the in-memory ShapeWorld masks
  /// of the same samples do through `Evaluation.evaluate` (a training run's path).
  @Test func folderMasksScoreThePointingGameAsShapeWorldsOwn() throws {
    var options = EvaluationOptions(weights: Self.shipped, data: .folder(Self.fixture + "/images"))
    (options.split, options.masks) = (.all, Self.fixture + "/masks")
    let result = try CheckpointEvaluation.run(options)

    let world = ShapeWorld(imageSize: 64, seed: 0)
    let samples = result.sources.map { world.sample(ClassificationRun.validationStart + Int(($0 as NSString).lastPathComponent.dropLast(4))!) }
    let memory = LabeledImages(
      classNames: ShapeWorld.classes.map(\.rawValue), images: samples.map(\.image),
      labels: samples.map { ShapeWorld.classes.firstIndex(of: $0.shape)! }, masks: samples.map(\.mask),
      sources: result.sources)
    var model = ViTClassifier(try VisionTransformer.load(from: Self.shipped).model)
    let report = Evaluation.evaluate(&model, on: memory, batchSize: 7)
    #expect(result.report.pointingGame.map(\.name) == ["pool", "rollout"])
    #expect(result.report.pointingGame.map(\.hitRate) == report.pointingGame.map(\.hitRate))
    #expect(result.report.strictPointingGame.map(\.hitRate) == report.strictPointingGame.map(\.hitRate))
    #expect(result.report.accuracy == report.accuracy && result.report.confusion == report.confusion)
    // Not vacuous: the maps find most objects and miss some strictly.
    #expect(report.pointingGame[0].hitRate > 0.8 && report.strictPointingGame[0].hitRate < 1)
  }

  /// Class alignment: by name when the checkpoint names its classes, else by index.
  @Test func classesAreAlignedByNameOrRefused() throws {
    var saved = try SavedClassifier(loading: Self.shipped)
    let folder = LabeledImages(
      classNames: ["circle", "cross", "ring", "square", "star", "triangle"],
      images: Array(repeating: Image(width: 1, height: 1, channels: 3), count: 3), labels: [1, 3, 5], sources: ["a", "b", "c"])
    let aligned = try saved.align(folder)
    #expect(aligned.classNames == ShapeWorld.classes.map(\.rawValue) && aligned.labels == [4, 1, 2])
    var renamed = folder
    renamed.classNames[0] = "disc"
    #expect(throws: EvaluationError.self) { try saved.align(renamed) }
    saved.labelNames = nil
    #expect(try saved.align(folder).labels == [1, 3, 5])
    var fewer = folder
    fewer.classNames.removeLast()
    do {
      _ = try saved.align(fewer)
      Issue.record("5 classes for a 6-class model must be refused")
    } catch {
      #expect(error.description == "the checkpoint has 6 classes but the data has 5")
    }
  }

  /// `label_names` (and, for the CNN, `input_size`) in config.json; a CNN checkpoint loads
  /// back through its config with the same logits.
  @Test func checkpointsCarryTheirClassNames() throws {
    let folder = MaskFolderTests.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var rng = SplitMix64(seed: 2)
    var cnn = ConvNetClassifier(ConvNet(ModelKind.cnnSagan.convNet(classes: 3)!, using: &rng), inputSize: 16, labelNames: ["x", "y", "z"])
    try cnn.save(to: folder + "/cnn")
    let loaded = try SavedClassifier(loading: folder + "/cnn")
    #expect(loaded.kind == "cnn-sagan" && loaded.inputSize == 16 && loaded.labelNames == ["x", "y", "z"])
    let images = Tensor(shape: [2, 3, 16, 16], scalars: (0..<(2 * 3 * 256)).map { Float($0 % 13) / 13 - 0.5 })
    guard case .convNet(var back) = loaded.network else { Issue.record("a CNN checkpoint loads as a CNN"); return }
    let expected = withGradientsDisabled { cnn.logits(images, training: false) }
    #expect(withGradientsDisabled { back.logits(images, training: false) }.scalars == expected.scalars)

    var vit = ViTShape()
    (vit.imageSize, vit.patchSize, vit.width, vit.depth, vit.heads) = (16, 8, 16, 1, 2)
    let model = VisionTransformer(vit.configuration(classes: 3), using: &rng)
    try ViTClassifier(model, labelNames: ["p", "q", "r"]).save(to: folder + "/vit")
    let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/vit/config.json"))) as? [String: Any]
    #expect(config?["label_names"] as? [String] == ["p", "q", "r"])
    #expect(try SavedClassifier(loading: folder + "/vit").labelNames == ["p", "q", "r"])
    #expect(throws: CheckpointError.self) { try ViTClassifier(model, labelNames: ["p"]).save(to: folder + "/bad") }
  }

  /// `--pool map`: the classifier saves in timm's layout (`global_pool` "map"), loads back with
  /// the same logits, and its "pool" map is the pooling head's attention, heads averaged.
  @Test func attentionPoolingClassifierRoundTripsAndMapsItsPool() throws {
    let folder = MaskFolderTests.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var vit = ViTShape()
    (vit.imageSize, vit.patchSize, vit.width, vit.depth, vit.heads, vit.pool) = (16, 4, 16, 1, 2, .map)
    var rng = SplitMix64(seed: 5)
    var classifier = ViTClassifier(VisionTransformer(vit.configuration(classes: 3), using: &rng), labelNames: ["p", "q", "r"])
    // Larger pooling weights than timm's initial ones, so the heads' attention is uneven.
    for tensor in classifier.model.attentionPool!.parameters { tensor.scalars = tensor.scalars.indices.map { Float(sin(Double($0))) } }
    try classifier.save(to: folder + "/vit")
    let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/vit/config.json"))) as? [String: Any]
    #expect(config?["global_pool"] as? String == "map")
    let images = Tensor(shape: [2, 3, 16, 16], scalars: (0..<(2 * 3 * 256)).map { Float($0 % 11) / 11 - 0.5 })
    guard case .vit(var back) = try SavedClassifier(loading: folder + "/vit").network else { Issue.record("a ViT checkpoint loads as a ViT"); return }
    let expected = withGradientsDisabled { classifier.logits(images, training: false) }
    #expect(withGradientsDisabled { back.logits(images, training: false) }.scalars == expected.scalars)

    let evidence = withGradientsDisabled { classifier.evidence(images) }
    let weights = withGradientsDisabled { classifier.model(batch: images, recordAttention: true) }.poolAttention!  // [2, 2, 1, 16]
    for (i, maps) in evidence.enumerated() {
      #expect(maps.maps.map(\.name) == ["pool", "rollout"])
      let pool = maps.maps[0].values
      let heads = (0..<2).map { h in Array(weights.scalars[((i * 2 + h) * 16)..<((i * 2 + h + 1) * 16)]) }
      #expect(heads[0] != heads[1])
      #expect(zip(pool, zip(heads[0], heads[1])).allSatisfy { abs($0 - ($1.0 + $1.1) / 2) < 1e-6 })
      #expect(abs(maps.maps[1].values.reduce(0, +) - 1) < 1e-4, "rollout carries a distribution")
    }
  }
}
