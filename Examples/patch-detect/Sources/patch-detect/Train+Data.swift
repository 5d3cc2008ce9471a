import Foundation
import PatchDetectKit
import VAImageIO
import VisionAttention

extension PatchDetect.Train {
  /// `--data DIR`: trains on the training split, saves RUN/model, then scores the validation
  /// split through the saved folder, read back as `patch-detect evaluate` reads it (so
  /// metrics.json holds the numbers `evaluate --weights RUN/model` gives on those images), and
  /// writes RUN/metrics.json, RUN/curves.png and RUN/validation.png.
  func trainOnData(run: String) throws {
    let start = Date()
    let (trainSet, validationSet) = try dataOptions.load(seed: seed)
    print("\(trainSet.images.count) training images, \(validationSet.images.count) validation images, classes \(trainSet.classNames.joined(separator: ", "))")
    let result = try trainModel(trainSet.images.map(\.sample), validation: validationSet.images.map(\.sample), classNames: trainSet.classNames)
    let trainingSeconds = Date().timeIntervalSince(start)
    try save(result, classNames: trainSet.classNames, run: run)

    // The saved files, not the in-memory model: what every later reader of RUN/model gets.
    let detector = DETRDetector(try DETRModel(path: run + "/model").imported)
    var examples: [DetectionExample] = []
    let evaluation = DetectionEvaluation.run(on: validationSet.images, classes: trainSet.categories.count) { image in
      let (detections, output) = detector.detect(image.sample.image)
      // The figure shows the first four validation images.
      if examples.count < 4 { examples.append(DetectionExample(sample: image.sample, detections: detections, output: output)) }
      return detections
    }
    let steps = result.history.steps
    let curves: [String: [Double]] = [
      "loss": steps.map(\.loss), "classification": steps.map(\.classification), "box_l1": steps.map(\.boxL1), "giou": steps.map(\.giou),
      "learning_rate": steps.map(\.learningRate),
    ]
    var extra: [String: Any] = [
      "data": trainSet.path, "train_images": trainSet.images.count, "training_seconds": trainingSeconds, "budget_minutes": budget,
      "plan": result.history.plan, "convergence_aid": result.history.convergenceAid, "image_size": imageSize, "seed": Int(seed),
      "weights": run + "/model",
    ]
    if let validationData = dataOptions.validationData { extra["validation_data"] = validationData } else { extra["val_fraction"] = dataOptions.validationFraction }
    try RunOutputs.write(
      to: run, evaluation: evaluation.result, classNames: trainSet.classNames, images: evaluation.imageIDs.count, issues: validationSet.issues,
      curves: curves, steps: steps.map(\.step), examples: examples, extra: extra)
    print(String(format: "trained in %.0f s; %d validation images:", trainingSeconds, evaluation.imageIDs.count))
    DetectionMetrics.summary(evaluation.result, classNames: trainSet.classNames).forEach { print($0) }
    print("wrote \(run)/model, \(run)/history.json, \(run)/metrics.json, \(run)/curves.png, \(run)/validation.png")
  }
}
