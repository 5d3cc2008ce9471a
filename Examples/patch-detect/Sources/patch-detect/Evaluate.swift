import ArgumentParser
import Foundation
import PatchDetectKit
import VAImageIO
import VisionAttention

extension PatchDetect {
  /// `patch-detect evaluate --weights RUN/model --data DIR`: COCO AP of a DETR checkpoint on a COCO folder.
  struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "COCO AP of a DetrForObjectDetection folder on a COCO-format folder.",
      discussion: """
        --weights is a DetrForObjectDetection folder (config.json, model.safetensors, \
        preprocessor_config.json): RUN/model from training, or one transformers saved. Every \
        image of --data is resized and normalised as DetrImageProcessor does and run alone; all \
        queries' detections are scored as pycocotools scores bounding boxes (IoU .50:.95, \
        101-point interpolation, 100 detections per image, area all; crowd regions ignored). \
        The model's classes must be the data's categories, in order (its id2label, when it has \
        one, must name them). Prints AP, AP50, AP75 and each class's AP; writes OUTPUT/metrics.json \
        and OUTPUT/detections.json (COCO's results format, with the data's category ids). \
        Skipped images and annotations are listed on stderr with the reason.
        """)

    @Option(name: [.customShort("w"), .long], help: "A DetrForObjectDetection folder (RUN/model).")
    var weights: String

    @Option(help: "A COCO-format folder (annotations.json, images beside it or under images/) or an annotations file.")
    var data: String

    @Option(help: "The folder for metrics.json and detections.json (created if missing).")
    var output = "."

    func validate() throws {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), !isDirectory.boolValue {
        throw ValidationError("--output \(output) exists and is not a folder.")
      }
    }

    /// The model and the data do not go together.
    struct Mismatch: Error, CustomStringConvertible {
      var description: String
    }

    func run() throws {
      let model = try DETRModel(path: weights)
      let annotations = try COCOAnnotations(contentsOf: COCODataset.annotationsFile(for: data))
      let classes = model.imported.model.classes
      guard classes == annotations.categories.count else {
        throw Mismatch(description: "\(weights) has \(classes) classes, \(annotations.path) has \(annotations.categories.count) categories.")
      }
      if let names = model.classNames, names != annotations.classNames {
        throw Mismatch(
          description: "\(weights)'s id2label [\(names.joined(separator: ", "))] is not \(annotations.path)'s categories [\(annotations.classNames.joined(separator: ", "))] in order.")
      }
      try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
      let detector = DETRDetector(model.imported)
      let total = annotations.images.count
      let evaluation = DetectionEvaluation.run(
        on: annotations, detect: { detector.detect($0.sample.image).detections },
        progress: { done, _ in
          // About twenty lines however large the folder.
          if done == total || done % max(1, total / 20) == 0 { FileHandle.standardError.write(Data("evaluated \(done)/\(total) images\n".utf8)) }
        })
      for issue in evaluation.issues { FileHandle.standardError.write(Data("skipped: \(issue)\n".utf8)) }
      let metrics = DetectionMetrics.dictionary(
        evaluation.result, classNames: annotations.classNames, images: evaluation.imageIDs.count, issues: evaluation.issues,
        extra: ["weights": weights, "data": annotations.path])
      // Both files' bytes exist before either is written: an error leaves neither.
      let results = try COCOResults.json(evaluation.predictions, categories: annotations.categories)
      try DetectionMetrics.write(metrics, to: (output as NSString).appendingPathComponent("metrics.json"))
      try AtomicFile.write(results, to: (output as NSString).appendingPathComponent("detections.json"))
      print("\(evaluation.imageIDs.count) images of \(annotations.path)")
      DetectionMetrics.summary(evaluation.result, classNames: annotations.classNames).forEach { print($0) }
      print("wrote \((output as NSString).appendingPathComponent("metrics.json")) and detections.json")
    }
  }
}
