/// COCO's bounding-box average precision, computed as pycocotools' `COCOeval` computes it
/// (`evaluateImg`, `accumulate`, `summarize`), for area range "all" and 100 detections per
/// image: IoU thresholds 0.50:0.05:0.95, 101-point interpolated precision.
///
/// Reference: Lin et al. 2014 (COCO), <https://cocodataset.org/#detection-eval>;
/// pycocotools `cocoeval.py` and `maskApi.c` (`bbIou`). Matching runs per image and class:
/// detections by descending score (stable), each to the best-IoU ground truth not yet taken
/// (crowd regions can take any number, with IoU = intersection / detection area); a detection
/// on a crowd region is ignored, not a false positive. Classes without ground truth have no
/// AP (pycocotools' −1) and are left out of the means.
///
/// Complexity: O(Σ detections · ground truths) IoUs per class, O(D log D) sorting per class.
public enum AveragePrecision {
  /// One ground-truth annotation.
  public struct GroundTruth: Sendable, Equatable {
    public var imageID: Int
    /// Class index, `0..<classes`.
    public var label: Int
    public var bbox: COCOBox
    public var isCrowd: Bool
    /// COCO's `area` (only area ranges read it; "all" keeps every box).
    public var area: Double

    /// A ground-truth box; `area` defaults to the box's.
    public init(imageID: Int, label: Int, bbox: COCOBox, isCrowd: Bool = false, area: Double? = nil) {
      (self.imageID, self.label, self.bbox, self.isCrowd) = (imageID, label, bbox, isCrowd)
      self.area = area ?? bbox.width * bbox.height
    }
  }

  /// One scored detection (COCO's results format, with a class index for the category).
  public struct Prediction: Sendable, Equatable {
    public var imageID: Int
    public var label: Int
    public var bbox: COCOBox
    public var score: Double

    /// A detection.
    public init(imageID: Int, label: Int, bbox: COCOBox, score: Double) {
      (self.imageID, self.label, self.bbox, self.score) = (imageID, label, bbox, score)
    }
  }

  /// `np.linspace(.5, 0.95, 10)`, computed as numpy does so that 0.75 is exactly index 5.
  public static let iouThresholds = linspace(0.5, 0.95, count: 10)
  /// `np.linspace(0, 1, 101)`.
  public static let recallThresholds = linspace(0, 1, count: 101)
  /// COCO's `maxDets[-1]`: detections kept per image and class, best scores first.
  public static let maxDetections = 100
  /// COCO's "all" area range, `[0, 1e5²]`.
  static let areaRange = 0.0...1e10

  /// Evaluates `predictions` against `groundTruth` over the images `imageIDs` (every image
  /// that was run, with or without ground truth) and `classes` classes.
  /// Preconditions: labels in `0..<classes`, every prediction's image in `imageIDs`.
  public static func evaluate(groundTruth: [GroundTruth], predictions: [Prediction], imageIDs: [Int], classes: Int) -> AveragePrecisionResult {
    let images = Array(Set(imageIDs)).sorted()
    let known = Set(images)
    var truths: [Key: [GroundTruth]] = [:]
    for g in groundTruth {
      precondition((0..<classes).contains(g.label) && known.contains(g.imageID), "ground truth of class \(g.label), image \(g.imageID) is outside the evaluation")
      truths[Key(image: g.imageID, label: g.label), default: []].append(g)
    }
    var found: [Key: [Prediction]] = [:]
    for p in predictions {
      precondition((0..<classes).contains(p.label) && known.contains(p.imageID), "detection of class \(p.label), image \(p.imageID) is outside the evaluation")
      found[Key(image: p.imageID, label: p.label), default: []].append(p)
    }
    let (t, r) = (iouThresholds.count, recallThresholds.count)
    // precision[t][r][k] and recall[t][k], −1 where class k has no ground truth (as pycocotools).
    var precision = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: -1, count: classes), count: r), count: t)
    var recall = [[Double]](repeating: [Double](repeating: -1, count: classes), count: t)
    for k in 0..<classes {
      let evaluated = images.compactMap { image -> ImageMatches? in
        let key = Key(image: image, label: k)
        return match(truths[key] ?? [], found[key] ?? [])
      }
      let scores = evaluated.flatMap(\.scores)
      let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
      let truthCount = evaluated.reduce(0) { $0 + $1.truthIgnored.filter { !$0 }.count }
      guard truthCount > 0 else { continue }
      for ti in 0..<t {
        let matched = evaluated.flatMap { $0.matched[ti] }, ignored = evaluated.flatMap { $0.ignored[ti] }
        var (tp, fp) = (0.0, 0.0)
        var recalls: [Double] = [], precisions: [Double] = []
        for i in order {
          if !ignored[i] { if matched[i] { tp += 1 } else { fp += 1 } }
          recalls.append(tp / Double(truthCount))
          precisions.append(tp / (fp + tp + Double.ulpOfOne))
        }
        recall[ti][k] = recalls.last ?? 0
        // The precision envelope: the best precision at this recall or any higher one.
        for i in stride(from: precisions.count - 1, to: 0, by: -1) where precisions[i] > precisions[i - 1] { precisions[i - 1] = precisions[i] }
        for (ri, threshold) in recallThresholds.enumerated() {
          // np.searchsorted(rc, threshold, side="left"): the first recall ≥ threshold; none → 0.
          let index = firstIndex(in: recalls, notBelow: threshold)
          precision[ti][ri][k] = index < precisions.count ? precisions[index] : 0
        }
      }
    }
    return AveragePrecisionResult(precision: precision, recall: recall)
  }

  /// np.linspace(start, stop, count): `i · step + start`, the last value exactly `stop`.
  static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
    let step = (stop - start) / Double(count - 1)
    return (0..<count).map { $0 == count - 1 ? stop : Double($0) * step + start }
  }

  /// The first index `i` with `values[i] >= threshold` in non-decreasing `values`.
  static func firstIndex(in values: [Double], notBelow threshold: Double) -> Int {
    var (low, high) = (0, values.count)
    while low < high {
      let mid = (low + high) / 2
      if values[mid] < threshold { low = mid + 1 } else { high = mid }
    }
    return low
  }

  private struct Key: Hashable { var image: Int, label: Int }

  /// One image and class matched at every IoU threshold (pycocotools' `evaluateImg`).
  struct ImageMatches {
    /// The kept detections' scores, best first.
    var scores: [Double]
    /// `[threshold][detection]`: matched to a ground truth / to be ignored.
    var matched: [[Bool]], ignored: [[Bool]]
    /// Per ground truth: crowd or outside the area range.
    var truthIgnored: [Bool]
  }

  /// pycocotools' `evaluateImg`; nil when the image has neither ground truth nor detections.
  static func match(_ truths: [GroundTruth], _ predictions: [Prediction]) -> ImageMatches? {
    if truths.isEmpty && predictions.isEmpty { return nil }
    // Ground truths to ignore last (stable), detections by score (stable), top 100.
    let truthOrder = truths.indices.sorted { (ignore(truths[$0]) ? 1 : 0, $0) < (ignore(truths[$1]) ? 1 : 0, $1) }
    let gts = truthOrder.map { truths[$0] }
    let dts = predictions.indices.sorted { predictions[$0].score > predictions[$1].score || (predictions[$0].score == predictions[$1].score && $0 < $1) }
      .prefix(maxDetections).map { predictions[$0] }
    let truthIgnored = gts.map(ignore)
    let ious = dts.map { d in gts.map { g in iou(d.bbox, g.bbox, crowd: g.isCrowd) } }
    var matched = [[Bool]](repeating: [Bool](repeating: false, count: dts.count), count: iouThresholds.count)
    var ignored = matched
    for (ti, threshold) in iouThresholds.enumerated() {
      var taken = [Bool](repeating: false, count: gts.count)
      for d in dts.indices {
        var best = min(threshold, 1 - 1e-10)
        var m = -1
        for g in gts.indices {
          // A ground truth already taken can match again only when it is a crowd region.
          if taken[g] && !gts[g].isCrowd { continue }
          // Having matched a real ground truth, stop at the ignored ones (sorted last).
          if m > -1 && !truthIgnored[m] && truthIgnored[g] { break }
          if ious[d][g] < best { continue }
          best = ious[d][g]
          m = g
        }
        guard m > -1 else { continue }
        ignored[ti][d] = truthIgnored[m]
        matched[ti][d] = true
        taken[m] = true
      }
      // Unmatched detections outside the area range are ignored too.
      for d in dts.indices where !matched[ti][d] && !areaRange.contains(dts[d].bbox.width * dts[d].bbox.height) { ignored[ti][d] = true }
    }
    return ImageMatches(scores: dts.map(\.score), matched: matched, ignored: ignored, truthIgnored: truthIgnored)
  }

  private static func ignore(_ g: GroundTruth) -> Bool { g.isCrowd || !areaRange.contains(g.area) }

  /// maskApi.c's `bbIou`: intersection over union, or over the detection's area for a crowd region.
  static func iou(_ d: COCOBox, _ g: COCOBox, crowd: Bool) -> Double {
    let w = min(d.x + d.width, g.x + g.width) - max(d.x, g.x)
    guard w > 0 else { return 0 }
    let h = min(d.y + d.height, g.y + g.height) - max(d.y, g.y)
    guard h > 0 else { return 0 }
    let intersection = w * h
    let da = d.width * d.height, ga = g.width * g.height
    return intersection / (crowd ? da : da + ga - intersection)
  }
}
