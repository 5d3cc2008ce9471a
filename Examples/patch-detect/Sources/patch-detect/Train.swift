import ArgumentParser
import Foundation
import PatchDetectKit
import VAImageIO
import VisionAttention

extension PatchDetect {
  /// `patch-detect --data DIR --run-dir RUN`: trains, then writes the model, metrics and figures.
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train", abstract: "Train a small DETR on a COCO-format folder.",
      discussion: """
        Trains DETR's set criterion (Hungarian matching, CE with no-object weight 0.1, L1 + GIoU, \
        auxiliary losses) with Group DETR's query groups as the convergence aid, AdamW, clipping, \
        warm-up and a cosine schedule planned from --budget. Every image is resized as the saved \
        preprocessor_config.json says (longer side --image-size, aspect kept), as evaluate and \
        vit-attend resize it. Writes RUN/model/ (DetrForObjectDetection: config.json, \
        preprocessor_config.json, model.safetensors) and RUN/history.json; with --data also \
        RUN/metrics.json (COCO AP of the validation images through RUN/model, as `patch-detect \
        evaluate` gives it), RUN/curves.png and RUN/validation.png.
        """)

    @OptionGroup var dataOptions: DataOptions
    @Option(name: .customLong("run-dir"), help: "Where the model, metrics.json and figures go.") var runDirectory: String?
    @Option(help: "Minutes the schedule is planned to fit.") var budget: Double = 20
    @Option(help: "Train this many epochs instead of planning from --budget.") var epochs: Int?
    @Option(help: "Seeds the weights, the shuffling and the flips.") var seed: UInt64 = 0
    @Option(name: .customLong("image-size"), help: "The longer side every image is resized to (aspect kept).") var imageSize: Int = 128
    @Option(name: .customLong("batch-size"), help: "Images per step.") var batchSize: Int = 8
    @Option(help: "Query groups trained one-to-many (Group DETR); 1 trains plain DETR.") var groups: Int = 4
    @Option(name: .customLong("learning-rate"), help: "Peak learning rate of the transformer and heads.") var learningRate: Float = DetectionTrainingOptions().learningRate
    @Option(name: .customLong("backbone-learning-rate"), help: "Peak learning rate of the backbone.")
    var backboneLearningRate: Float = DetectionTrainingOptions().backboneLearningRate
    @Option(
      name: .customLong("synthetic-scenes"),
      help: "Train on this many generated scenes (squares, discs, triangles), written under RUN as COCO folders, instead of --data; a fifth as many validate.")
    var syntheticScenes: Int?

    func validate() throws {
      guard runDirectory != nil else { throw ValidationError("--run-dir is required") }
      guard (dataOptions.data == nil) != (syntheticScenes == nil) else { throw ValidationError("give exactly one of --data and --synthetic-scenes") }
      guard budget > 0 else { throw ValidationError("--budget must be positive, got \(budget)") }
      if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
      if let syntheticScenes, syntheticScenes < 1 { throw ValidationError("--synthetic-scenes must be at least 1, got \(syntheticScenes)") }
      if syntheticScenes != nil && dataOptions.validationData != nil {
        throw ValidationError("--val-data is for --data; --synthetic-scenes generates its own validation scenes")
      }
      guard learningRate > 0 && backboneLearningRate > 0 else { throw ValidationError("learning rates must be positive") }
      guard groups >= 1 else { throw ValidationError("--groups must be at least 1, got \(groups)") }
    }

    func run() throws {
      guard let syntheticScenes else { return try trainOnData(run: runDirectory!) }
      // Generated scenes are written as two COCO folders and read back as --data and --val-data,
      // so the run is the same as on any folder and writes the same outputs.
      let run = runDirectory!
      let scenes = SyntheticScenes(size: imageSize, seed: seed &+ 1)
      let validationCount = max(1, syntheticScenes / 5)
      let (trainFolder, validationFolder) = (run + "/synthetic-train", run + "/synthetic-validation")
      try Self.writeCOCO(scenes.samples(0..<syntheticScenes), to: trainFolder)
      try Self.writeCOCO(scenes.samples(1_000_000..<(1_000_000 + validationCount)), to: validationFolder)
      var command = self
      (command.dataOptions.data, command.dataOptions.validationData) = (trainFolder, validationFolder)
      try command.trainOnData(run: run)
    }

    /// Trains with the command's options, printing progress.
    func trainModel(_ train: [DetectionSample], validation: [DetectionSample], classNames: [String]) throws -> DetectionTrainingResult {
      var options = DetectionTrainingOptions()
      (options.budgetSeconds, options.epochs, options.seed, options.imageSize, options.batchSize) = (budget * 60, epochs, seed, imageSize, batchSize)
      (options.learningRate, options.backboneLearningRate) = (learningRate, backboneLearningRate)
      var model = SmallDETRConfiguration(classes: classNames.count)
      model.groups = groups
      options.model = model
      return try DetectionTraining.train(train, validation: validation, classNames: classNames, options: options) { p in
        switch p.event {
        case .planned(let plan): print("plan: \(plan)")
        case .step(let s):
          print(String(format: "step %d (epoch %d, %.0f s): loss %.4f  ce %.4f  l1 %.4f  giou %.4f  lr %.2e", s.step, s.epoch, s.seconds, s.loss, s.classification, s.boxL1, s.giou, s.learningRate))
        case .epoch(let e): print(String(format: "epoch %d done at %.0f s, validation loss %.4f", e.epoch, e.seconds, e.validationLoss ?? .nan))
        }
        // Progress shows as it happens when stdout is a file or a pipe.
        fflush(nil)
      }
    }

    /// Writes RUN/model (id2label = `classNames`) and RUN/history.json.
    func save(_ result: DetectionTrainingResult, classNames: [String], run: String) throws {
      try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
      try result.saveHuggingFace(to: run + "/model", classNames: classNames)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try AtomicFile.write(Array(encoder.encode(result.history)), to: run + "/history.json")
    }

    /// Generated scenes as a COCO folder: PNGs beside annotations.json.
    static func writeCOCO(_ samples: [DetectionSample], to folder: String) throws {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      var images: [[String: Any]] = [], annotations: [[String: Any]] = []
      for (i, sample) in samples.enumerated() {
        let name = String(format: "scene-%04d.png", i)
        try sample.image.writePNG(to: folder + "/" + name)
        images.append(["id": i + 1, "file_name": name, "width": sample.image.width, "height": sample.image.height])
        for (box, label) in zip(sample.boxes, sample.labels) {
          annotations.append(["id": annotations.count + 1, "image_id": i + 1, "category_id": label + 1, "bbox": box.coco, "area": box.area, "iscrowd": 0])
        }
      }
      let categories = SyntheticScenes.classNames.enumerated().map { ["id": $0.offset + 1, "name": $0.element] as [String: Any] }
      let coco: [String: Any] = ["images": images, "annotations": annotations, "categories": categories]
      try JSONSerialization.data(withJSONObject: coco).write(to: URL(fileURLWithPath: folder + "/annotations.json"), options: .atomic)
    }
  }
}
