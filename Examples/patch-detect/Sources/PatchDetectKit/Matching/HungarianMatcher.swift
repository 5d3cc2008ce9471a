/// One image's ground truth as DETR's loss reads it: class indices and normalised boxes.
public struct DETRTarget: Sendable, Equatable {
  /// Class of each object, `0 ..< C`.
  public var labels: [Int]
  /// Each object's `(cx, cy, w, h)` as fractions of the image.
  public var boxes: [CenterBox]

  /// A target; one label per box.
  public init(labels: [Int], boxes: [CenterBox]) {
    precondition(labels.count == boxes.count, "DETRTarget needs one label per box, got \(labels.count) labels and \(boxes.count) boxes")
    (self.labels, self.boxes) = (labels, boxes)
  }

  /// A sample's boxes in DETR's normalised form for an image `width × height`.
  public init(sample: DetectionSample) {
    let (w, h) = (sample.image.width, sample.image.height)
    self.init(labels: sample.labels, boxes: sample.boxes.map { CenterBox($0.normalizedCenter(width: w, height: h)) })
  }
}

/// DETR's bipartite matching between predictions and ground truth (Carion et al. 2020, §3.1,
/// Eq. 1; facebookresearch/detr `models/matcher.py`): the cost of giving target `t` to query `q` is
///
///     C(q, t) = w_box · ‖b_q − b_t‖₁ − w_class · p_q(c_t) − w_giou · GIoU(b_q, b_t)
///
/// with `p_q` the softmax over all `C + 1` classes, and the assignment of least total cost is
/// `LinearAssignment` (scipy's `linear_sum_assignment`). Every target gets a query when there
/// are at least as many queries as targets.
public struct HungarianMatcher: Sendable, Equatable {
  /// Weights of the class, L1 and GIoU costs (DETR: 1, 5, 2).
  public var classCost: Double, boxCost: Double, giouCost: Double

  /// A matcher with DETR's default weights.
  public init(classCost: Double = 1, boxCost: Double = 5, giouCost: Double = 2) {
    (self.classCost, self.boxCost, self.giouCost) = (classCost, boxCost, giouCost)
  }

  /// The matched `(query, target)` pairs, sorted by query, for one image.
  ///
  /// - Parameters:
  ///   - probabilities: softmax over the `classes + 1` columns, `[Q, classes + 1]` row-major.
  ///   - boxes: the predictions, `Q` of them.
  /// Complexity: O(Q · T) costs, then the assignment's O(T² · Q).
  public func match(probabilities: [Double], boxes: [CenterBox], target: DETRTarget) -> [(query: Int, target: Int)] {
    let (q, t) = (boxes.count, target.labels.count)
    guard t > 0 else { return [] }
    let k = probabilities.count / Swift.max(q, 1)
    var cost = [Double](repeating: 0, count: q * t)
    for i in 0..<q {
      for j in 0..<t {
        let (a, b) = (boxes[i], target.boxes[j])
        let l1 = abs(a.cx - b.cx) + abs(a.cy - b.cy) + abs(a.w - b.w) + abs(a.h - b.h)
        cost[i * t + j] = boxCost * l1 - classCost * probabilities[i * k + target.labels[j]] - giouCost * GeneralizedIoU.value(a, b)
      }
    }
    return LinearAssignment.solve(cost: cost, rows: q, cols: t).map { (query: $0.row, target: $0.column) }
  }
}
