import Foundation
import VAImageIO
import VAInspection
import VARendering
import VATensorCore

/// A map `--faithfulness` scores: a `MapRegistry` entry with a `FaithfulnessRole` (`cls`,
/// `rollout`, the gradient maps, and the `random` baseline every map should beat), named as
/// the registry names it.
public struct FaithfulnessMap: RawRepresentable, Hashable, CaseIterable, Sendable {
  /// The entry that declares how the map is scored.
  public let spec: MapSpec
  /// The map's name (`MapSpec.name`), as `--maps` and the report write it.
  public var rawValue: String { spec.name }

  /// The scored map named `rawValue`; nil for a name the registry does not score.
  public init?(rawValue: String) {
    guard let spec = MapRegistry.spec(named: rawValue), spec.faithfulness != nil else { return nil }
    self.spec = spec
  }

  /// Every scored map, in the registry's order.
  public static var allCases: [FaithfulnessMap] { MapRegistry.all.compactMap { FaithfulnessMap(rawValue: $0.name) } }

  /// `--maps`' default.
  public static var defaults: [FaithfulnessMap] { allCases.filter { $0.spec.faithfulness?.byDefault == true } }

  /// Maps are equal when their names are.
  public static func == (a: FaithfulnessMap, b: FaithfulnessMap) -> Bool { a.rawValue == b.rawValue }
  /// Hashes the name.
  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// What `--faithfulness REPORT.json` writes: per map the deletion and insertion AUCs averaged
/// over the images (`maps`), and every image's curves and AUCs (`images`).
public struct FaithfulnessReport: Codable, Sendable {
  /// One map's deletion and insertion AUCs, averaged over the images (JSON `deletion_auc`,
  /// `insertion_auc`).
  public struct Scores: Codable, Sendable, Equatable {
    /// Mean area under the deletion curves; lower is better.
    public var deletionAUC: Double
    /// Mean area under the insertion curves; higher is better.
    public var insertionAUC: Double
    enum CodingKeys: String, CodingKey { case deletionAUC = "deletion_auc", insertionAUC = "insertion_auc" }
  }
  /// One map's curves on one image and their areas (`FaithfulnessCurves` as JSON).
  public struct MapCurves: Codable, Sendable {
    /// Area under `deletion` (JSON `deletion_auc`).
    public var deletionAUC: Double
    /// Area under `insertion` (JSON `insertion_auc`).
    public var insertionAUC: Double
    /// Target probability (or similarity) after removing 0, w, 2w, … patches, w the grid width.
    public var deletion: [Double]
    /// Target probability (or similarity) after inserting 0, w, 2w, … patches into the blurred
    /// copy.
    public var insertion: [Double]
    enum CodingKeys: String, CodingKey { case deletionAUC = "deletion_auc", insertionAUC = "insertion_auc", deletion, insertion }
  }
  /// One image's target and its curves for every scored map.
  public struct ImageEntry: Codable, Sendable {
    /// The image's path as given on the command line (or found in a folder).
    public var input: String
    /// The class the curves follow (`--class`, else the top-1); nil for an embedding target.
    public var targetClass: Int?
    /// The target class's label, when the checkpoint names its classes (JSON `class_name`).
    public var className: String?
    /// Its probability on the unperturbed image.
    public var probability: Double?
    /// For an embedding target: the cosine similarity on the unperturbed image.
    public var similarity: Double?
    /// Map name → its curves on this image; maps the model lacks are in the report's `skipped`.
    public var maps: [String: MapCurves]
    enum CodingKeys: String, CodingKey { case input, targetClass = "class", className = "class_name", probability, similarity, maps }
  }

  /// Map name → AUCs averaged over `images`.
  public var maps: [String: Scores]
  /// Every image's curves, in input order.
  public var images: [ImageEntry]
  /// The model's name (`InspectableModel.name`).
  public var model: String
  /// Maps asked for that this model lacks, with the reason.
  public var skipped: [String: String]

  /// Pretty-printed JSON with sorted keys.
  public func json() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return [UInt8](try encoder.encode(self))
  }
}

/// Scores maps by deletion and insertion over images, one batched model pass per image for
/// all its perturbed inputs.
public struct FaithfulnessRun: Sendable {
  /// The classifier (or embedding model) whose outputs the curves follow.
  public var model: any AttributableModel
  /// How each image is decoded and sized for the model, as for figures.
  public var input: InputSettings
  /// The maps to score (`--maps`), in the order the report lists them.
  public var maps: [FaithfulnessMap]
  /// The class the curves follow, or, for a model without a classifier, an embedding whose
  /// cosine similarity they follow.
  public var target: AttributionTarget
  /// Perturbed inputs per model pass.
  public var batchSize: Int

  /// A run of `model` over `maps` following `target`, `batchSize` perturbed inputs per pass.
  public init(
    model: any AttributableModel, input: InputSettings = InputSettings(), maps: [FaithfulnessMap] = FaithfulnessMap.defaults,
    target: AttributionTarget = .topClass, batchSize: Int = 16
  ) {
    self.model = model
    self.input = input
    self.maps = maps
    self.target = target
    self.batchSize = batchSize
  }

  /// The patch-grid map of `kind` for one image, or why the model lacks it, as its registry
  /// entry scores it.
  static func map(_ kind: FaithfulnessMap, record: AttributionRecordPair, seed: UInt64) -> Result<[Float], FaithfulnessSkip> {
    guard let role = kind.spec.faithfulness else { return .failure(FaithfulnessSkip("\(kind.rawValue) is not scored")) }
    return role.score(record, seed)
  }

  /// Class-token attention at the last layer, mean of heads; for a model with an
  /// attention-pooling head and no class token, that head's attention (as `--map cls` draws).
  static func classTokenScore(_ record: AttributionRecordPair, seed: UInt64) -> Result<[Float], FaithfulnessSkip> {
    let run = record.run
    guard let values = run.classTokenMap(layer: run.layers.count - 1, .fused(.mean)) ?? run.poolMap(.fused(.mean)) else {
      return .failure(FaithfulnessSkip("the model has no class token and no attention-pooling head"))
    }
    return .success(values)
  }

  /// A random order of the patches, seeded by the image's position in the run.
  static func randomScore(_ record: AttributionRecordPair, seed: UInt64) -> Result<[Float], FaithfulnessSkip> {
    let a = record.attribution
    var rng = SplitMix64(seed: seed)
    return .success(Array(0..<(a.gridWidth * a.gridHeight)).shuffled(using: &rng).map(Float.init))
  }

  /// Runs every image in `paths` (decoded and sized as `input` says).
  /// - Parameter progress: called after each image with (done, total).
  /// - Throws: `VisionAttentionError.faithfulnessNeedsClass` for a model without a classifier
  ///   and no target embedding, the attribution's errors, and image errors naming the file.
  public func run(_ paths: [String], progress: (Int, Int) -> Void = { _, _ in }) throws -> FaithfulnessReport {
    var entries: [FaithfulnessReport.ImageEntry] = []
    var skipped: [String: String] = [:]
    for (position, path) in paths.enumerated() {
      let prepared = try PreparedImage(contentsOfFile: path, for: model, input: input)
      let run = try model.run(prepared.image)
      let attribution = try Self.attribution(model, prepared.image, target)
      let curveTarget: CurveTarget
      switch (target, attribution.targetClass) {
      case (.embedding(let e), _): curveTarget = .similarity(to: e)
      case (_, let k?): curveTarget = .probability(class: k)
      case (_, nil): throw VisionAttentionError.faithfulnessNeedsClass
      }
      var named: [(name: String, values: [Float])] = []
      for kind in maps {
        switch Self.map(kind, record: AttributionRecordPair(run: run.attention, attribution: attribution), seed: UInt64(position)) {
        case .success(let values): named.append((kind.rawValue, values))
        case .failure(let why): skipped[kind.rawValue] = why.reason
        }
      }
      let curves = try Faithfulness.curves(
        model: model, input: model.normalizedInput(prepared.image), gridWidth: attribution.gridWidth, gridHeight: attribution.gridHeight,
        patchSize: model.patchSize, maps: named, target: curveTarget, batchSize: batchSize)
      let k = attribution.targetClass
      entries.append(
        FaithfulnessReport.ImageEntry(
          input: path, targetClass: k, className: k.flatMap { k in model.classNames.flatMap { k < $0.count ? $0[k] : nil } },
          probability: attribution.probability, similarity: k == nil ? Double(attribution.score) : nil,
          maps: curves.mapValues { .init(deletionAUC: $0.deletionAUC, insertionAUC: $0.insertionAUC, deletion: $0.deletion, insertion: $0.insertion) }))
      progress(position + 1, paths.count)
    }
    var averaged: [String: FaithfulnessReport.Scores] = [:]
    for kind in maps where skipped[kind.rawValue] == nil {
      let scores = entries.compactMap { $0.maps[kind.rawValue] }
      guard !scores.isEmpty else { continue }
      averaged[kind.rawValue] = .init(
        deletionAUC: scores.map(\.deletionAUC).reduce(0, +) / Double(scores.count),
        insertionAUC: scores.map(\.insertionAUC).reduce(0, +) / Double(scores.count))
    }
    return FaithfulnessReport(maps: averaged, images: entries, model: model.name, skipped: skipped)
  }
}

extension FaithfulnessRun {
  /// The image's attribution; a model without a classifier and no target embedding has
  /// nothing to follow.
  static func attribution(_ model: any AttributableModel, _ image: Image, _ target: AttributionTarget) throws(VisionAttentionError) -> Attribution {
    let result = Result { () throws(VisionAttentionError) -> Attribution in try model.attributions([image], targets: [target])[0] }
    if case .failure(.noClassifier) = result { throw .faithfulnessNeedsClass }
    return try result.get()
  }
}

/// An image's attention and attribution, the sources of every scored map.
struct AttributionRecordPair {
  var run: AttentionRecord
  var attribution: Attribution
}

/// Why a map was left out.
struct FaithfulnessSkip: Error {
  var reason: String
  init(_ reason: String) { self.reason = reason }
}

extension FaithfulnessReport {
  /// Both curves per map, averaged over the images (each curve resampled to 51 points on
  /// [0, 1] so images of different grids average), AUCs in the legend.
  public func figure(order: [String]) -> Image {
    let names = order.filter { maps[$0] != nil }
    let embedding = images.contains { $0.targetClass == nil }
    let yLabel = embedding ? "cosine similarity to the target" : "target class probability"
    // Cosine similarity can be negative; probabilities cannot.
    let lowest = images.flatMap { $0.maps.values.flatMap { $0.deletion + $0.insertion } }.min() ?? 0
    let yRange = (embedding && lowest < 0 ? -1.0 : 0.0)...1.0
    func mean(_ name: String, _ pick: (MapCurves) -> [Double]) -> [(x: Double, y: Double)] {
      let curves = images.compactMap { $0.maps[name].map(pick) }
      return (0...50).map { i in
        let x = Double(i) / 50
        let ys = curves.map { curve -> Double in
          let position = x * Double(curve.count - 1), low = Int(position.rounded(.down)), high = min(low + 1, curve.count - 1)
          return curve[low] + (curve[high] - curve[low]) * (position - Double(low))
        }
        return (x, ys.reduce(0, +) / Double(max(ys.count, 1)))
      }
    }
    func panel(_ title: String, _ pick: @escaping (MapCurves) -> [Double], _ auc: (Scores) -> Double) -> Panel {
      let series = names.enumerated().map { i, name in
        Plot.Series(
          points: mean(name, pick), color: RGB.markers[i % RGB.markers.count], connected: true,
          label: "\(name) AUC \(String(format: "%.3f", auc(maps[name]!)))")
      }
      let plot = Plot(
        series: series, xLabel: "fraction of patches \(title == "deletion" ? "removed" : "inserted")",
        yLabel: yLabel, xRange: 0...1, yRange: yRange)
      return Panel(image: plot.render(width: 420, height: 300), caption: ["\(title): \(title == "deletion" ? "lower" : "higher") is more faithful"])
    }
    let panels = [panel("deletion", \.deletion, \.deletionAUC), panel("insertion", \.insertion, \.insertionAUC)]
    let count = images.count
    return Figure.sideBySide(panels, title: "faithfulness over \(count) \(count == 1 ? "image" : "images") | \(model)")
  }
}
