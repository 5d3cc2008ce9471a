import Foundation
import VATensorCore

/// DETR's set prediction loss (Carion et al. 2020, §3.1, Eq. 2; facebookresearch/detr
/// `models/detr.py` `SetCriterion` with `losses = ['labels', 'boxes']`), summed over every
/// decoder layer's predictions (the auxiliary decoding losses, §3.2) and over query groups:
///
///     per layer: w_class · CE + w_L1 · Σ‖b − b̂‖₁ / N + w_giou · Σ(1 − GIoU(b, b̂)) / N
///
/// where each layer matches its own predictions (`HungarianMatcher`), CE is the cross-entropy
/// over all queries with unmatched ones labelled "no object" (index `C`), weighted per target
/// class with `noObjectWeight` on "no object" and divided by the sum of the weights (PyTorch's
/// weighted mean), and `N` is the number of ground-truth boxes in the batch (at least 1).
///
/// Query groups (Chen et al. 2023, "Group DETR: Fast DETR Training with Group-Wise One-to-Many
/// Assignment", ICCV): with `groups = G` the `Q` queries are `G` independent sets of `Q/G`;
/// each group is matched one-to-one on its own and the losses add up, so each target trains
/// `G` queries per step while inference keeps the first group and DETR's layout. `G = 1` is DETR.
///
/// The loss and its gradient are computed together in `Double` (one pass; the gradient is
/// recorded as one custom op on the logits and boxes).
public struct SetCriterion: Sendable {
  /// The number of real classes `C`; logits have `C + 1` columns.
  public var classes: Int
  /// The matching costs.
  public var matcher: HungarianMatcher
  /// Weights of the loss terms (DETR: 1, 5, 2) and of "no object" in the cross-entropy (0.1).
  public var classWeight: Double, boxWeight: Double, giouWeight: Double, noObjectWeight: Double
  /// Independent query groups `G` (1: plain DETR).
  public var groups: Int

  /// DETR's criterion for `classes` classes with the paper's weights.
  public init(
    classes: Int, matcher: HungarianMatcher = HungarianMatcher(), classWeight: Double = 1, boxWeight: Double = 5, giouWeight: Double = 2,
    noObjectWeight: Double = 0.1, groups: Int = 1
  ) {
    precondition(classes > 0 && groups > 0, "SetCriterion needs classes (\(classes)) and groups (\(groups)) ≥ 1")
    (self.classes, self.matcher, self.groups) = (classes, matcher, groups)
    (self.classWeight, self.boxWeight, self.giouWeight, self.noObjectWeight) = (classWeight, boxWeight, giouWeight, noObjectWeight)
  }

  /// One decoder layer's unweighted terms (summed over groups) and its matches.
  public struct LayerTerms: Sendable {
    /// The weighted-mean cross-entropy.
    public var classification: Double
    /// Σ L1 / N and Σ (1 − GIoU) / N.
    public var boxL1: Double, giou: Double
    /// Per image, the matched `(query, target)` pairs over all groups (query indices into `Q`).
    public var matches: [[(query: Int, target: Int)]]
  }

  /// The loss over all layers, `[]`-shaped, recorded for `backward()`, and each layer's terms.
  public struct Result {
    /// Σ over layers of `w_class · CE + w_L1 · L1 + w_giou · GIoU`.
    public var total: Tensor
    /// The terms per layer, the last layer last.
    public var layers: [LayerTerms]
  }

  /// The loss of predictions `logits` `[L, B, Q, C+1]` and `boxes` `[L, B, Q, 4]` (after the
  /// sigmoid) against one target per image. Complexity: per layer and group O(B·Q·T) costs plus
  /// the matching, O(B·Q·C) for the cross-entropy.
  public func callAsFunction(logits: Tensor, boxes: Tensor, targets: [DETRTarget]) -> Result {
    precondition(logits.rank == 4 && logits.shape[3] == classes + 1, "SetCriterion logits must be [L, B, Q, \(classes + 1)], got \(logits.shape)")
    let (layers, batch, queries, k) = (logits.shape[0], logits.shape[1], logits.shape[2], classes + 1)
    precondition(boxes.shape == [layers, batch, queries, 4], "SetCriterion boxes must be [\(layers), \(batch), \(queries), 4], got \(boxes.shape)")
    precondition(targets.count == batch, "SetCriterion has \(targets.count) targets for a batch of \(batch)")
    precondition(queries % groups == 0, "\(queries) queries do not split into \(groups) groups")
    let perGroup = queries / groups
    let boxCount = Swift.max(Double(targets.reduce(0) { $0 + $1.labels.count }), 1)
    let (x, b) = (logits.scalars, boxes.scalars)
    var gradLogits = [Double](repeating: 0, count: x.count), gradBoxes = [Double](repeating: 0, count: b.count)
    var total = 0.0
    var terms: [LayerTerms] = []
    for l in 0..<layers {
      var term = LayerTerms(classification: 0, boxL1: 0, giou: 0, matches: Array(repeating: [], count: batch))
      for g in 0..<groups {
        // Softmax rows and the class each query is trained towards (C = "no object").
        var probabilities = [[Double]](repeating: [], count: batch)
        var wanted = [[Int]](repeating: [Int](repeating: classes, count: perGroup), count: batch)
        var groupL1 = 0.0, groupGIoU = 0.0
        for i in 0..<batch {
          let base = ((l * batch + i) * queries + g * perGroup)
          probabilities[i] = softmaxRows(x, from: base * k, rows: perGroup, width: k)
          let predicted = (0..<perGroup).map { CenterBox(b, at: (base + $0) * 4) }
          let pairs = matcher.match(probabilities: probabilities[i], boxes: predicted, target: targets[i])
          for (q, t) in pairs {
            wanted[i][q] = targets[i].labels[t]
            term.matches[i].append((query: g * perGroup + q, target: t))
            let (p, truth) = (predicted[q], targets[i].boxes[t])
            // forward: L1 = Σ |b − b̂| / N  ->  ∂/∂b = sign(b − b̂) / N (0 at 0, as torch.sign)
            let d = [p.cx - truth.cx, p.cy - truth.cy, p.w - truth.w, p.h - truth.h]
            groupL1 += d.reduce(0) { $0 + abs($1) }
            // forward: L_giou = Σ (1 − GIoU) / N  ->  ∂/∂b = −∂GIoU/∂b / N
            let (giou, dg) = GeneralizedIoU.valueAndGradient(p, truth)
            groupGIoU += 1 - giou
            let o = (base + q) * 4
            let dGIoU = [dg.cx, dg.cy, dg.w, dg.h]
            for c in 0..<4 {
              let sign: Double = d[c] > 0 ? 1 : (d[c] < 0 ? -1 : 0)
              gradBoxes[o + c] += boxWeight * sign / boxCount - giouWeight * dGIoU[c] / boxCount
            }
          }
        }
        // forward: CE = Σ_r w_{y_r} · (−log p_r(y_r)) / Σ_r w_{y_r}
        // so:      ∂/∂x_rc = w_{y_r} · (p_r(c) − [c = y_r]) / Σ_r w_{y_r}
        var weightSum = 0.0, weighted = 0.0
        for i in 0..<batch {
          for q in 0..<perGroup {
            let y = wanted[i][q], w = y == classes ? noObjectWeight : 1
            weightSum += w
            weighted -= w * Foundation.log(probabilities[i][q * k + y])
          }
        }
        for i in 0..<batch {
          let base = ((l * batch + i) * queries + g * perGroup)
          for q in 0..<perGroup {
            let y = wanted[i][q], w = y == classes ? noObjectWeight : 1
            for c in 0..<k {
              gradLogits[(base + q) * k + c] += classWeight * w * (probabilities[i][q * k + c] - (c == y ? 1 : 0)) / weightSum
            }
          }
        }
        term.classification += weighted / weightSum
        term.boxL1 += groupL1 / boxCount
        term.giou += groupGIoU / boxCount
      }
      for i in 0..<batch { term.matches[i].sort { $0.query < $1.query } }
      total += classWeight * term.classification + boxWeight * term.boxL1 + giouWeight * term.giou
      terms.append(term)
    }
    let (gx, gb) = (gradLogits.map(Float.init), gradBoxes.map(Float.init))
    let loss = Tensor.custom(shape: [], scalars: [Float(total)], inputs: [logits, boxes]) { upstream in
      let s = upstream[0]
      return [gx.map { $0 * s }, gb.map { $0 * s }]
    }
    return Result(total: loss, layers: terms)
  }

  /// Softmax of `rows` rows of `width` values starting at `from`, in `Double`.
  private func softmaxRows(_ x: [Float], from: Int, rows: Int, width: Int) -> [Double] {
    var out = [Double](repeating: 0, count: rows * width)
    for r in 0..<rows {
      let row = (0..<width).map { Double(x[from + r * width + $0]) }
      let top = row.max()!
      let e = row.map { Foundation.exp($0 - top) }
      let s = e.reduce(0, +)
      for c in 0..<width { out[r * width + c] = e[c] / s }
    }
    return out
  }
}
