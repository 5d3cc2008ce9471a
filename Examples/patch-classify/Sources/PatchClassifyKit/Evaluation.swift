import VARendering
import VATensorCore

/// A model's spatial evidence for one image: maps over its feature grid (a ViT's patch grid,
/// a CNN's last feature map), row-major, larger = more attended.
public struct EvidenceMaps: Sendable {
  public var gridWidth: Int
  public var gridHeight: Int
  /// Named maps, in a fixed order (for a ViT: "cls" then "rollout").
  public var maps: [(name: String, values: [Float])]

  public init(gridWidth: Int, gridHeight: Int, maps: [(name: String, values: [Float])]) {
    self.gridWidth = gridWidth
    self.gridHeight = gridHeight
    self.maps = maps
  }
}

/// Accuracy, per-class accuracy, confusion matrix and the pointing game.
public enum Evaluation {
  /// What a model scored on a labelled set.
  public struct Report: Sendable {
    public var accuracy: Double
    /// Per class, in `classNames` order.
    public var perClassAccuracy: [Double]
    /// `confusion[true][predicted]` counts.
    public var confusion: [[Int]]
    /// Per evidence map name, the fraction of images whose map peak lies on the object,
    /// with Zhang et al.'s tolerance (`pointingGame`) and without (`strictPointingGame`).
    public var pointingGame: [(name: String, hitRate: Double)]
    public var strictPointingGame: [(name: String, hitRate: Double)] = []
  }

  /// Index of the largest entry of each row of `[N, K]` logits.
  static func argmaxRows(_ logits: Tensor) -> [Int] {
    let k = logits.shape[1]
    return (0..<logits.shape[0]).map { r in
      let row = logits.scalars[(r * k)..<((r + 1) * k)]
      return row.indices.max { row[$0] < row[$1] }! - r * k
    }
  }

  /// Predicted classes for every image of `data`, in order, without recording gradients.
  public static func predictions(of model: inout some ImageClassifier, on data: LabeledImages, batchSize: Int) -> [Int] {
    let batches = BatchMaker(mean: model.mean, std: model.std)
    var out: [Int] = []
    for start in stride(from: 0, to: data.count, by: batchSize) {
      let images = Array(data.images[start..<min(data.count, start + batchSize)])
      out += withGradientsDisabled { argmaxRows(model.logits(batches.tensor(images), training: false)) }
    }
    return out
  }

  public static func accuracy(of model: inout some ImageClassifier, on data: LabeledImages, batchSize: Int) -> Double {
    guard data.count > 0 else { return 0 }
    let predicted = predictions(of: &model, on: data, batchSize: batchSize)
    return Double(zip(predicted, data.labels).filter { $0 == $1 }.count) / Double(data.count)
  }

  /// The full report; the pointing game runs when `data` has masks and the model gives maps.
  public static func evaluate<M: ImageClassifier & EvidenceProviding>(_ model: inout M, on data: LabeledImages, batchSize: Int) -> Report {
    evaluate(&model, on: data, predicted: predictions(of: &model, on: data, batchSize: batchSize), batchSize: batchSize)
  }

  /// The full report for `predicted`, the model's `predictions` on `data` (computed once by
  /// a caller that also keeps them).
  public static func evaluate<M: ImageClassifier & EvidenceProviding>(_ model: inout M, on data: LabeledImages, predicted: [Int], batchSize: Int) -> Report {
    var report = scores(predicted, data)
    guard let masks = data.masks else { return report }
    let batches = BatchMaker(mean: model.mean, std: model.std)
    var hits: [String: Int] = [:], strictHits: [String: Int] = [:], names: [String] = []
    for start in stride(from: 0, to: data.count, by: batchSize) {
      let range = start..<min(data.count, start + batchSize)
      let evidence = withGradientsDisabled { model.evidence(batches.tensor(Array(data.images[range]))) }
      for (i, maps) in zip(range, evidence) {
        for (name, values) in maps.maps {
          if !names.contains(name) { names.append(name) }
          let image = data.images[i]
          func hit(_ tolerance: Int) -> Bool {
            pointsAtObject(
              values, gridWidth: maps.gridWidth, gridHeight: maps.gridHeight, mask: masks[i],
              width: image.width, height: image.height, tolerance: tolerance)
          }
          if hit(tolerance(forSide: max(image.width, image.height))) { hits[name, default: 0] += 1 }
          if hit(0) { strictHits[name, default: 0] += 1 }
        }
      }
    }
    report.pointingGame = names.map { ($0, Double(hits[$0] ?? 0) / Double(data.count)) }
    report.strictPointingGame = names.map { ($0, Double(strictHits[$0] ?? 0) / Double(data.count)) }
    return report
  }

  /// Accuracy, per-class accuracy and the confusion matrix of `predicted` against `data`.
  static func scores(_ predicted: [Int], _ data: LabeledImages) -> Report {
    let k = data.classNames.count
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    for (p, t) in zip(predicted, data.labels) { confusion[t][p] += 1 }
    let perClass = (0..<k).map { c in
      let total = confusion[c].reduce(0, +)
      return total == 0 ? 0 : Double(confusion[c][c]) / Double(total)
    }
    let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
    return Report(accuracy: data.count == 0 ? 0 : Double(correct) / Double(data.count), perClassAccuracy: perClass, confusion: confusion, pointingGame: [])
  }

  /// The pointing game (Zhang et al. 2016): the map, bilinearly upsampled to the image's
  /// pixels as the overlays draw it, peaks on the object or within `tolerance` pixels of it.
  /// Zhang et al. allow 15 pixels at 224 (`tolerance(forSide:)` scales that); 0 is strict.
  public static func pointsAtObject(_ values: [Float], gridWidth: Int, gridHeight: Int, mask: [Bool], width: Int, height: Int, tolerance: Int = 0) -> Bool {
    let upsampled = HeatMap(gridWidth: gridWidth, gridHeight: gridHeight, values: values).upsampled(width: width, height: height, method: .bilinear)
    guard let peak = upsampled.indices.max(by: { upsampled[$0] < upsampled[$1] }) else { return false }
    let (px, py) = (peak % width, peak / width)
    for y in max(0, py - tolerance)...min(height - 1, py + tolerance) {
      for x in max(0, px - tolerance)...min(width - 1, px + tolerance) where mask[y * width + x] {
        if (x - px) * (x - px) + (y - py) * (y - py) <= tolerance * tolerance { return true }
      }
    }
    return false
  }

  /// Zhang et al.'s 15-pixel tolerance at 224 pixels, scaled to an image side (4 at 64).
  public static func tolerance(forSide side: Int) -> Int { Int((15 * Double(side) / 224).rounded()) }
}

/// A model that can show where it looks.
public protocol EvidenceProviding {
  /// One `EvidenceMaps` per image of a `[B, 3, H, W]` batch (inference mode).
  mutating func evidence(_ images: Tensor) -> [EvidenceMaps]
}
