/// A box as DETR predicts it: centre and size as fractions of the image, in `Double` for the loss.
public struct CenterBox: Sendable, Equatable {
  public var cx: Double, cy: Double, w: Double, h: Double

  /// A box from its centre and size.
  public init(cx: Double, cy: Double, w: Double, h: Double) { (self.cx, self.cy, self.w, self.h) = (cx, cy, w, h) }

  /// A box from DETR's four numbers `(cx, cy, w, h)` starting at `offset` in `values`.
  public init(_ values: [Float], at offset: Int = 0) {
    self.init(cx: Double(values[offset]), cy: Double(values[offset + 1]), w: Double(values[offset + 2]), h: Double(values[offset + 3]))
  }

  /// `(x0, y0, x1, y1)` as DETR's `box_cxcywh_to_xyxy`.
  var corners: (x0: Double, y0: Double, x1: Double, y1: Double) { (cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h) }
}

/// Generalised intersection over union (Rezatofighi et al. 2019, "Generalized Intersection over
/// Union", Alg. 1) of two boxes, with its gradient with respect to the first.
///
/// `GIoU = IoU − (E − U) / E` with `U` the union's area and `E` the smallest enclosing box's,
/// in [−1, 1]; computed as torchvision's `generalized_box_iou` on the corners that DETR's
/// `box_cxcywh_to_xyxy` gives (widths of the intersection and enclosure clamped at 0).
/// The gradient follows PyTorch's conventions where the function has a kink: `max`/`min` of
/// two equal coordinates send half the gradient to each, `clamp(min: 0)` passes it at 0.
public enum GeneralizedIoU {
  /// The GIoU of `a` and `b`.
  public static func value(_ a: CenterBox, _ b: CenterBox) -> Double { valueAndGradient(a, b).value }

  /// The GIoU of `a` and `b` and its derivatives with respect to `a`'s `(cx, cy, w, h)`.
  public static func valueAndGradient(_ a: CenterBox, _ b: CenterBox) -> (value: Double, gradient: CenterBox) {
    let p = a.corners, t = b.corners
    let area1 = (p.x1 - p.x0) * (p.y1 - p.y0), area2 = (t.x1 - t.x0) * (t.y1 - t.y0)
    // Intersection: lt = max(corners), rb = min(corners), wh = (rb − lt).clamp(min: 0).
    let ix0 = Swift.max(p.x0, t.x0), iy0 = Swift.max(p.y0, t.y0), ix1 = Swift.min(p.x1, t.x1), iy1 = Swift.min(p.y1, t.y1)
    let iw = Swift.max(ix1 - ix0, 0), ih = Swift.max(iy1 - iy0, 0)
    let inter = iw * ih
    let union = area1 + area2 - inter
    let iou = inter / union
    // Enclosure: lt = min(corners), rb = max(corners).
    let ex0 = Swift.min(p.x0, t.x0), ey0 = Swift.min(p.y0, t.y0), ex1 = Swift.max(p.x1, t.x1), ey1 = Swift.max(p.y1, t.y1)
    let ew = Swift.max(ex1 - ex0, 0), eh = Swift.max(ey1 - ey0, 0)
    let enclosure = ew * eh
    let giou = iou - (enclosure - union) / enclosure

    // forward: giou = I/U − (E − U)/E with U = A₁ + A₂ − I
    // so:      ∂/∂I = 1/U + I/U² − 1/E,  ∂/∂A₁ = −I/U² + 1/E,  ∂/∂E = −U/E²
    let dI = 1 / union + inter / (union * union) - 1 / enclosure
    let dA1 = -inter / (union * union) + 1 / enclosure
    let dE = -union / (enclosure * enclosure)
    // Corner gradients of the prediction, (x0, y0, x1, y1).
    var g = (x0: 0.0, y0: 0.0, x1: 0.0, y1: 0.0)
    // A₁ = (x1 − x0)(y1 − y0)
    g.x1 += dA1 * (p.y1 - p.y0)
    g.x0 -= dA1 * (p.y1 - p.y0)
    g.y1 += dA1 * (p.x1 - p.x0)
    g.y0 -= dA1 * (p.x1 - p.x0)
    // I = iw · ih, iw = clamp(ix1 − ix0), ix1 = min(x1, X1), ix0 = max(x0, X0)
    let dIw = (ix1 - ix0 >= 0 ? dI * ih : 0), dIh = (iy1 - iy0 >= 0 ? dI * iw : 0)
    g.x1 += dIw * share(p.x1, t.x1, smaller: true)
    g.x0 -= dIw * share(p.x0, t.x0, smaller: false)
    g.y1 += dIh * share(p.y1, t.y1, smaller: true)
    g.y0 -= dIh * share(p.y0, t.y0, smaller: false)
    // E = ew · eh, ew = clamp(ex1 − ex0), ex1 = max(x1, X1), ex0 = min(x0, X0)
    let dEw = (ex1 - ex0 >= 0 ? dE * eh : 0), dEh = (ey1 - ey0 >= 0 ? dE * ew : 0)
    g.x1 += dEw * share(p.x1, t.x1, smaller: false)
    g.x0 -= dEw * share(p.x0, t.x0, smaller: true)
    g.y1 += dEh * share(p.y1, t.y1, smaller: false)
    g.y0 -= dEh * share(p.y0, t.y0, smaller: true)
    // x0 = cx − w/2, x1 = cx + w/2 (and y alike)
    let gradient = CenterBox(cx: g.x0 + g.x1, cy: g.y0 + g.y1, w: 0.5 * (g.x1 - g.x0), h: 0.5 * (g.y1 - g.y0))
    return (giou, gradient)
  }

  /// The share of a `min` (`smaller: true`) or `max` of `mine` and `other` that flows back to
  /// `mine`: 1 when `mine` is the one picked, ½ on a tie (PyTorch's `minimum`/`maximum`), else 0.
  @inline(__always) private static func share(_ mine: Double, _ other: Double, smaller: Bool) -> Double {
    if mine == other { return 0.5 }
    return (smaller ? mine < other : mine > other) ? 1 : 0
  }
}
