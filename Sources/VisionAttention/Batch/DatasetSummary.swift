import Foundation
import VAImageIO
import VARendering

/// Numbers over a whole data set, added up image by image and mergeable across shards: mean
/// attention distance per layer and head (ViT paper, Figure 7, averages it over 128 images)
/// and the average shown map (class token, rollout).
///
/// Every field is a sum with its count, so shards merge by adding (`merged(with:)`); means
/// are derived. Maps from images of different shapes are averaged on a common
/// `mapSide × mapSide` grid over each image's extent (bilinear, cell centres), each scaled to
/// sum 1 first so every image weighs the same.
public struct DatasetSummary: Codable, Equatable, Sendable {
  /// Side of the common grid average maps are resampled to.
  public static let mapSide = 32

  /// Format version of `summary.json`, 1.
  public var version = 1
  /// `--map`'s value.
  public var map: String
  /// The model's name (`InspectableModel.name`): shards merge only with the same one.
  public var model: String
  /// Images added (those that finished).
  public var images = 0
  /// Layers of the model, once an image has been added.
  public var layers = 0
  /// Heads per layer, once an image has been added.
  public var heads = 0
  /// Σ over images of mean attention distance (pixels), `[layers · heads]`.
  public var distanceSum: [Double]?
  /// Σ over images of the shown map on the common grid, `[mapSide · mapSide]`.
  public var mapSum: [Double]?

  enum CodingKeys: String, CodingKey {
    case version, map, model, images, layers, heads
    case distanceSum = "distance_sum", mapSum = "map_sum"
    case meanDistance = "mean_attention_distance", meanMap = "mean_map"
  }

  /// An empty summary for `--map map` over `model`'s images.
  public init(map: String, model: String) {
    self.map = map
    self.model = model
  }

  /// Mean attention distance per layer and head, `[layers · heads]`.
  public var meanDistance: [Double]? { distanceSum.map { $0.map { $0 / Double(max(images, 1)) } } }
  /// The average map, `[mapSide · mapSide]`.
  public var meanMap: [Double]? { mapSum.map { $0.map { $0 / Double(max(images, 1)) } } }

  /// Adds one image: its mean attention distances and its shown map resampled to the common
  /// `mapSide × mapSide` grid, scaled to sum 1.
  public mutating func add(_ summary: ImageSummary) {
    images += 1
    (layers, heads) = (summary.layers, summary.heads)
    if let distances = summary.distances {
      let values = distances.map(Double.init)
      distanceSum = distanceSum.map { zip($0, values).map(+) } ?? values
    }
    if let map = summary.shownMap {
      let common = Self.resample(map, width: summary.gridWidth, height: summary.gridHeight, side: Self.mapSide)
      mapSum = mapSum.map { zip($0, common).map(+) } ?? common
    }
  }

  /// The sum of two summaries of the same model and map (two shards).
  /// - Throws: `VisionAttentionError.summariesDiffer` when they are not of the same model and map.
  public func merged(with other: DatasetSummary) throws(VisionAttentionError) -> DatasetSummary {
    guard map == other.map, model == other.model, images == 0 || other.images == 0 || (layers, heads) == (other.layers, other.heads) else {
      throw .summariesDiffer(first: "\(model), --map \(map)", second: "\(other.model), --map \(other.map)")
    }
    var sum = self
    sum.images += other.images
    if other.images > 0 { (sum.layers, sum.heads) = (other.layers, other.heads) }
    func add(_ a: [Double]?, _ b: [Double]?) -> [Double]? {
      guard let a else { return b }
      guard let b else { return a }
      return zip(a, b).map(+)
    }
    sum.distanceSum = add(distanceSum, other.distanceSum)
    sum.mapSum = add(mapSum, other.mapSum)
    return sum
  }

  /// Writes the sums and the derived means (`mean_attention_distance`, `mean_map`), snake_case
  /// keys.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(version, forKey: .version)
    try c.encode(map, forKey: .map)
    try c.encode(model, forKey: .model)
    try c.encode(images, forKey: .images)
    try c.encode(layers, forKey: .layers)
    try c.encode(heads, forKey: .heads)
    try c.encodeIfPresent(distanceSum, forKey: .distanceSum)
    try c.encodeIfPresent(mapSum, forKey: .mapSum)
    try c.encodeIfPresent(meanDistance, forKey: .meanDistance)
    try c.encodeIfPresent(meanMap, forKey: .meanMap)
  }

  /// Reads a `summary.json` (the derived means are recomputed, not read).
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    version = try c.decode(Int.self, forKey: .version)
    map = try c.decode(String.self, forKey: .map)
    model = try c.decode(String.self, forKey: .model)
    images = try c.decode(Int.self, forKey: .images)
    layers = try c.decode(Int.self, forKey: .layers)
    heads = try c.decode(Int.self, forKey: .heads)
    distanceSum = try c.decodeIfPresent([Double].self, forKey: .distanceSum)
    mapSum = try c.decodeIfPresent([Double].self, forKey: .mapSum)
  }

  /// `map` (`[height · width]`) scaled to sum 1 and resampled bilinearly to `side × side`
  /// over the same extent (cell centres at (i + 0.5) / n).
  static func resample(_ map: [Float], width: Int, height: Int, side: Int) -> [Double] {
    let total = map.reduce(0.0) { $0 + Double(max($1, 0)) }
    let scale = total > 0 ? 1 / total : 0
    func at(_ x: Int, _ y: Int) -> Double { Double(max(map[y * width + x], 0)) * scale }
    var out = [Double](repeating: 0, count: side * side)
    for j in 0..<side {
      let y = min(max((Double(j) + 0.5) / Double(side) * Double(height) - 0.5, 0), Double(height - 1))
      let y0 = Int(y), y1 = min(y0 + 1, height - 1), fy = y - Double(y0)
      for i in 0..<side {
        let x = min(max((Double(i) + 0.5) / Double(side) * Double(width) - 0.5, 0), Double(width - 1))
        let x0 = Int(x), x1 = min(x0 + 1, width - 1), fx = x - Double(x0)
        out[j * side + i] = (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy
      }
    }
    // Renormalise: each image's map sums to 1 on the common grid too.
    let sum = out.reduce(0, +)
    return sum > 0 ? out.map { $0 / sum } : out
  }

  /// The summary's figure: mean attention distance per head against layer (Figure 7 of the
  /// ViT paper), or the average map as a heat image.
  public func figure(colormap: Colormap = .inferno) -> Image? {
    let over = "over \(plural(images, "image"))"
    let title = map == "distance" ? "mean attention distance \(over)" : "average \(map) map \(over)"
    if let mean = meanDistance, layers > 0, heads > 0 {
      let series = (0..<heads).map { h in
        Plot.Series(
          points: (0..<layers).map { l in (Double(l), mean[l * heads + h]) },
          color: RGB.markers[h % RGB.markers.count], label: "head \(h)")
      }
      let plot = Plot(
        series: series, xLabel: "layer", yLabel: "mean attention distance (px)",
        xRange: -0.5...(Double(layers) - 0.5), yRange: 0...max((mean.max() ?? 0) * 1.15, 1), integerX: true)
      let panel = Panel(image: plot.render(width: 480, height: 320), caption: ["each point: one head's mean \(over)", "model: \(model)"])
      return Figure.sideBySide([panel], title: title)
    }
    if let mean = meanMap {
      let side = Self.mapSide, pixels = 256
      let values = mean.map(Float.init)
      let map = HeatMap(gridWidth: side, gridHeight: side, values: values)
      var canvas = Canvas(Image(width: pixels, height: pixels, channels: 3, pixels: [UInt8](repeating: 0, count: pixels * pixels * 3)))
      canvas.overlay(map.normalized().upsampled(width: pixels, height: pixels, method: .bilinear), width: pixels, height: pixels, x: 0, y: 0, colormap: colormap, alpha: 1)
      let (low, high) = map.range
      let panel = Panel(
        image: canvas.image,
        caption: ["each map scaled to sum 1 and", "resampled to \(side)x\(side) over its image", "model: \(model)"],
        colorBar: ColorBar(colormap: colormap, minimum: low, maximum: high))
      return Figure.sideBySide([panel], title: title)
    }
    return nil
  }
}
