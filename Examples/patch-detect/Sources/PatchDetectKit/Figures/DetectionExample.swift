import VAImageIO
import VAModels
import VARendering

/// One validation image for the figure: the truth, what the model found, and where each
/// found object's query looked.
public struct DetectionExample: Sendable {
  /// The image as read (RGB).
  public var image: Image
  /// Ground-truth boxes in `image`'s pixels, with their class indices.
  public var truthBoxes: [PixelBox], truthLabels: [Int]
  /// The detections to draw, best first, boxes in `image`'s pixels.
  public var detections: [Detection]
  /// Per detection, its query's decoder cross-attention over the feature grid (row-major,
  /// `gridHeight × gridWidth`, covering the whole image), or nil when there is none.
  public var attention: [HeatMap?]
  /// The row's label (file name, image id).
  public var caption: String

  /// An example; `attention` has one entry per detection.
  public init(image: Image, truthBoxes: [PixelBox], truthLabels: [Int], detections: [Detection], attention: [HeatMap?], caption: String) {
    precondition(truthBoxes.count == truthLabels.count, "one label per true box")
    precondition(attention.count == detections.count, "\(attention.count) attention maps for \(detections.count) detections")
    (self.image, self.truthBoxes, self.truthLabels, self.detections, self.attention, self.caption) =
      (image, truthBoxes, truthLabels, detections, attention, caption)
  }

  /// An example from a DETR forward pass: the detections scoring at least `threshold` (at most
  /// `limit`, best first), each with its query's last-layer cross-attention, heads averaged
  /// (`DETROutput.crossAttentionMap`, DETR's Figure 6). The map covers the whole image: one
  /// image run alone has no padding.
  public init(sample: DetectionSample, detections: [Detection], output: DETROutput, threshold: Float = 0.5, limit: Int = 4, caption: String? = nil) {
    let kept = Array(detections.filter { $0.score >= threshold }.sorted { $0.score > $1.score }.prefix(limit))
    let maps: [HeatMap?] = kept.map { detection in
      detection.query.map { q in
        HeatMap(gridWidth: output.featureWidth, gridHeight: output.featureHeight, values: output.crossAttentionMap(query: q).scalars)
      }
    }
    self.init(
      image: sample.image, truthBoxes: sample.boxes, truthLabels: sample.labels, detections: kept, attention: maps,
      caption: caption ?? String(sample.path.split(separator: "/").last ?? ""))
  }
}
