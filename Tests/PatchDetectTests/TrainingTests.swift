import Foundation
import PatchDetectKit
import Testing
import VATensorCore

@Suite struct TrainingTests {
  /// A tiny DETR on 24 synthetic 64×64 scenes (1–2 objects), 10 epochs of 3 steps: the loss
  /// falls, every ground-truth box is matched at every step, the validation loss is logged
  /// each epoch, and the result detects and saves a model VAModels reads back.
  @Test func shortRunLearns() throws {
    let scenes = SyntheticScenes(size: 64, maxObjects: 2, seed: 3)
    var options = DetectionTrainingOptions()
    var model = SmallDETRConfiguration(classes: 3)
    (model.stemWidth, model.stageWidths, model.depths, model.width, model.heads, model.feedForward) = (8, [8, 16], [1, 1], 32, 2, 64)
    (model.encoderLayers, model.decoderLayers, model.queries, model.groups) = (1, 2, 5, 2)
    (options.model, options.imageSize, options.epochs, options.batchSize, options.logEvery) = (model, 64, 10, 8, 1)
    (options.learningRate, options.backboneLearningRate, options.seed) = (1e-3, 5e-4, 1)
    var planned: [String] = []
    let result = try DetectionTraining.train(
      scenes.samples(0..<24), validation: scenes.samples(100..<108), classNames: SyntheticScenes.classNames, options: options
    ) { if case .planned(let p) = $0.event { planned.append(p) } }
    let steps = result.history.steps
    #expect(steps.count == 30 && result.history.epochs.count == 10)
    #expect(planned.isEmpty && result.history.plan.contains("--epochs"))
    let first = steps.prefix(3).map(\.loss).reduce(0, +) / 3, last = steps.suffix(3).map(\.loss).reduce(0, +) / 3
    #expect(last < 0.8 * first, "loss \(first) → \(last)")
    #expect(steps.allSatisfy { $0.unmatched == 0 && $0.boxes > 0 })
    let validation = result.history.epochs.compactMap(\.validationLoss)
    #expect(validation.count == 10 && validation.last! < validation.first!)
    #expect(result.history.convergenceAid.contains("Group DETR"))

    let scene = scenes.sample(200)
    let detections = result.detect(scene.image, threshold: 0)
    #expect(detections.count == 5 && detections.allSatisfy { (0..<3).contains($0.label) })
    let folder = NSTemporaryDirectory() + "trained-detr-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try result.saveHuggingFace(to: folder, classNames: SyntheticScenes.classNames)
    let data = try JSONEncoder().encode(result.history)
    #expect(try JSONDecoder().decode(DetectionLossHistory.self, from: data) == result.history)
  }

  /// Bad inputs are refused by name before any training.
  @Test func refusesBadInput() {
    let scenes = SyntheticScenes(size: 32, seed: 1)
    var options = DetectionTrainingOptions()
    options.epochs = 0
    #expect(throws: DetectionTrainingError.option(name: "--epochs", reason: "must be at least 1, got 0")) {
      try DetectionTraining.train(scenes.samples(0..<2), validation: [], classNames: ["a", "b", "c"], options: options)
    }
    #expect(throws: DetectionTrainingError.noTrainingImages) {
      try DetectionTraining.train([], validation: [], classNames: ["a"], options: DetectionTrainingOptions())
    }
    #expect(throws: DetectionTrainingError.label(path: "scene-0", label: scenes.sample(0).labels.max()!, classes: 1)) {
      try DetectionTraining.train(scenes.samples(0..<1), validation: [], classNames: ["a"], options: DetectionTrainingOptions())
    }
  }
}
