/// A detector scored on a COCO annotations file, image by image (images are decoded one at a
/// time, so any size of folder fits in memory).
public struct DetectionEvaluation: Sendable {
  /// pycocotools' arrays and summaries.
  public var result: AveragePrecisionResult
  /// Every detection, on the images that were evaluated.
  public var predictions: [AveragePrecision.Prediction]
  /// The images evaluated (COCO ids), in the file's order.
  public var imageIDs: [Int]
  /// Images and annotations left out, with the reason.
  public var issues: [DataIssue]

  /// Runs `detect` on every usable image of `annotations` and scores the detections against
  /// the annotations that fit (crowd regions included, as COCO evaluates). `progress` hears
  /// after each image (done, total).
  public static func run(
    on annotations: COCOAnnotations, detect: (COCOImage) throws -> [Detection], progress: (Int, Int) -> Void = { _, _ in }
  ) rethrows -> DetectionEvaluation {
    var truths: [AveragePrecision.GroundTruth] = []
    var predictions: [AveragePrecision.Prediction] = []
    var imageIDs: [Int] = []
    var issues = annotations.issues
    for (i, entry) in annotations.images.enumerated() {
      switch COCODataset.load(entry, of: annotations) {
      case .failure(let issue): issues.append(issue)
      case .success(let (image, skipped)):
        issues += skipped
        imageIDs.append(image.id)
        truths += AveragePrecision.GroundTruth.all(in: [image])
        predictions += try detect(image).map { AveragePrecision.Prediction($0, imageID: image.id) }
      }
      progress(i + 1, annotations.images.count)
    }
    let result = AveragePrecision.evaluate(groundTruth: truths, predictions: predictions, imageIDs: imageIDs, classes: annotations.categories.count)
    return DetectionEvaluation(result: result, predictions: predictions, imageIDs: imageIDs, issues: issues)
  }

  /// Scores `detect` on images already read (a training run's validation split): the same
  /// numbers `run(on: annotations)` gives on the folder they came from.
  public static func run(on images: [COCOImage], classes: Int, detect: (COCOImage) throws -> [Detection]) rethrows -> DetectionEvaluation {
    var predictions: [AveragePrecision.Prediction] = []
    for image in images { predictions += try detect(image).map { AveragePrecision.Prediction($0, imageID: image.id) } }
    let result = AveragePrecision.evaluate(
      groundTruth: AveragePrecision.GroundTruth.all(in: images), predictions: predictions, imageIDs: images.map(\.id), classes: classes)
    return DetectionEvaluation(result: result, predictions: predictions, imageIDs: images.map(\.id), issues: [])
  }
}
