import Foundation
import VAImageIO
import VAInspection
import VARendering

/// Everything a figure is drawn from: the sized image, the model's attention, and the
/// resolved query, layer and heads. Made by `ImageAttention.scene(_:)`; `figure()` draws
/// what `settings.map` names, `page(input:)` writes the interactive page.
public struct Scene {
  /// How the figure is drawn: map, layer, heads, query, colours.
  public let settings: FigureSettings
  /// The model that produced `run`.
  public let model: any InspectableModel
  /// How the input file's pixels map to the model input and back.
  public let geometry: InputGeometry
  /// The model's input image (resized and cropped).
  public let image: Image
  /// The model's input tensor, attention and logits for this image.
  public let run: ModelRun
  /// The query in the input file's pixels (`settings.query` resolved, or the centre).
  public let query: QueryPoint
  /// The query in the model input's pixels, clamped to the input.
  public let point: (x: Int, y: Int)
  /// The patch under the query.
  public let patch: (column: Int, row: Int)
  /// The layer the maps show (`settings.layer`, else the last).
  public let layer: Int
  /// The heads the maps show.
  public let selection: HeadSelection
  /// The attribution for `settings.target`, once computed: the figure, the summary and the
  /// page all read it, and each computation is a backward pass.
  let attributionMemo = Memo<Attribution>()

  /// Every layer's attention, `[heads, T, T]` per layer (`run.attention`).
  public var attention: AttentionRecord { run.attention }

  init(settings: FigureSettings, model: any InspectableModel, geometry: InputGeometry, image: Image, run: ModelRun) throws(VisionAttentionError) {
    self.settings = settings
    self.model = model
    self.geometry = geometry
    self.image = image
    self.run = run
    let record = run.attention
    let pixel: (x: Int, y: Int)
    (pixel, patch) = try geometry.resolveQuery(settings.query)
    query = QueryPoint(x: pixel.x, y: pixel.y)
    let p = geometry.modelPoint(x: Double(pixel.x) + 0.5, y: Double(pixel.y) + 0.5)
    point = (min(max(Int(p.x), 0), geometry.width - 1), min(max(Int(p.y), 0), geometry.height - 1))
    layer = settings.layer ?? record.layers.count - 1
    guard layer < record.layers.count else { throw .layerOutOfRange(layer: layer, layers: record.layers.count) }
    if let head = settings.head {
      guard head < record.heads else { throw .headOutOfRange(head: head, heads: record.heads) }
      selection = .head(head)
    } else if let fuse = settings.fuse {
      selection = .fused(fuse)
    } else {
      selection = model.defaultSelection
    }
  }

  /// Names the heads a map was drawn from.
  func describe(_ selection: HeadSelection) -> String {
    switch selection {
    case .head(let h): model.headName(h).map { "head \(h) (\($0))" } ?? "head \(h)"
    case .fused(let fusion): "\(fusion.rawValue) of \(plural(attention.heads, "head"))"
    }
  }

  /// The parameters that made the figure, for PNG text chunks and dump metadata.
  public func textChunks(input: String) -> [(key: String, value: String)] {
    var chunks: [(key: String, value: String)] = [
      ("Software", "vit-attend"), ("input", input), ("model", model.name),
      ("map", settings.map?.rawValue ?? "default"), ("layer", String(layer)),
      ("query", "\(query)"), ("query-patch", "\(patch.column),\(patch.row)"),
      ("cnn", settings.cnn.name), ("colormap", settings.colormap.rawValue),
    ]
    if let factor = geometry.enlargement { chunks.append(("enlarged", "\(factor)x nearest-neighbour, smaller than one \(geometry.patchSize)-pixel patch")) }
    switch selection {
    case .head(let h): chunks.append(("head", String(h)))
    case .fused(let fusion): chunks.append(("fuse", fusion.rawValue))
    }
    if let predictionCaption { chunks.append(("prediction", predictionCaption)) }
    let spec = MapRegistry.spec(settings.map)
    if let cnn = settings.cnnWeights, spec.reads.contains(.cnnWeights) {
      chunks.append(("cnn-weights", cnn.folder ?? "(in memory)"))
      if case .classIndex(let k) = settings.target { chunks.append(("cnn-class", String(k))) } else { chunks.append(("cnn-class", "top-1")) }
    }
    if spec.needsGradients {
      switch settings.target {
      case .topClass: chunks.append(("class", "top-1"))
      case .classIndex(let k): chunks.append(("class", String(k)))
      case .embedding(let e): chunks.append(("target", "cosine similarity to a \(e.count)-value embedding"))
      }
    }
    return chunks
  }

  /// Draws the map `settings.map` names (the default four-panel figure when nil).
  public func figure() throws(VisionAttentionError) -> RenderedFigure {
    if settings.style == .bare { return try bareFigure() }
    return try styledFigure()
  }

  /// The `--style full` figure of `settings.map`, as its registry entry draws it.
  func styledFigure() throws(VisionAttentionError) -> RenderedFigure {
    // Every `MapKind` entry has a figure (MapRegistryTests); only page views and baselines lack one.
    guard let draw = MapRegistry.spec(settings.map).figure else { preconditionFailure("MapRegistry: --map \(settings.map?.rawValue ?? "default") has no figure") }
    return try draw(self)
  }

  func queryTitle(layer: Int, _ selection: HeadSelection) -> String {
    "attention of patch (\(patch.column),\(patch.row)) at layer \(layer), \(describe(selection))"
  }
}

/// A value computed at most once, on first use, by whichever reader comes first.
final class Memo<Value>: @unchecked Sendable {
  // @unchecked: `value` is only read and written under `lock`.
  private let lock = NSLock()
  private var value: Value?

  func value<E: Error>(_ make: () throws(E) -> Value) throws(E) -> Value {
    lock.lock()
    defer { lock.unlock() }
    if let value { return value }
    let made = try make()
    value = made
    return made
  }
}
