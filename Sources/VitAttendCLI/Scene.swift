import VAImageIO
import VAInspection
import VARendering

/// Everything a figure is drawn from: the sized image, the model's attention, and the
/// resolved query, layer and heads.
struct Scene {
  let settings: Settings
  let model: any InspectableModel
  let geometry: InputGeometry
  /// The model's input image (resized and cropped).
  let image: Image
  let run: ModelRun
  /// The query in the input file's pixels and in the model input's pixels.
  let query: QueryPoint
  let point: (x: Int, y: Int)
  let patch: (column: Int, row: Int)
  let layer: Int
  let selection: HeadSelection

  var attention: AttentionRecord { run.attention }

  init(settings: Settings, model: any InspectableModel, geometry: InputGeometry, image: Image, run: ModelRun) throws(VitAttendError) {
    self.settings = settings
    self.model = model
    self.geometry = geometry
    self.image = image
    self.run = run
    let record = run.attention
    (query, patch) = try Self.resolveQuery(settings: settings, geometry: geometry)
    let p = geometry.modelPoint(x: Double(query.x) + 0.5, y: Double(query.y) + 0.5)
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

  /// `--query` (default: the image centre) in the input file's pixels, and the patch under it.
  static func resolveQuery(settings: Settings, geometry: InputGeometry) throws(VitAttendError) -> (QueryPoint, (column: Int, row: Int)) {
    let query = settings.query ?? QueryPoint(x: geometry.originalWidth / 2, y: geometry.originalHeight / 2)
    guard query.x < geometry.originalWidth, query.y < geometry.originalHeight else {
      throw .queryOutsideImage(x: query.x, y: query.y, width: geometry.originalWidth, height: geometry.originalHeight)
    }
    return (query, geometry.patch(atOriginalX: query.x, y: query.y))
  }

  /// Names the heads a map was drawn from.
  func describe(_ selection: HeadSelection) -> String {
    switch selection {
    case .head(let h): model.headName(h).map { "head \(h) (\($0))" } ?? "head \(h)"
    case .fused(let fusion): "\(fusion.rawValue) of \(attention.heads) heads"
    }
  }

  /// The parameters that made the figure, for PNG text chunks and dump metadata.
  func textChunks(input: String) -> [(key: String, value: String)] {
    var chunks: [(key: String, value: String)] = [
      ("Software", "vit-attend"), ("input", input), ("model", model.name),
      ("map", settings.map?.rawValue ?? "default"), ("layer", String(layer)),
      ("query", "\(query)"), ("query-patch", "\(patch.column),\(patch.row)"),
      ("cnn", settings.cnn.name), ("colormap", settings.colormap.rawValue),
    ]
    switch selection {
    case .head(let h): chunks.append(("head", String(h)))
    case .fused(let fusion): chunks.append(("fuse", fusion.rawValue))
    }
    return chunks
  }

  func figure() throws(VitAttendError) -> RenderedFigure {
    switch settings.map {
    case nil: defaultFigure()
    case .query: mapFigure(attention.queryMap(column: patch.column, row: patch.row, layer: layer, selection), title: queryTitle(layer: layer, selection), marked: true)
    case .cls: try classTokenFigure()
    case .rollout: rolloutFigure()
    case .heads: headsFigure()
    case .mask: try maskFigure()
    case .distance: distanceFigure()
    case .posembed: positionFigure()
    case .rf: receptiveFieldFigure()
    case .sagan: saganFigure()
    }
  }

  func queryTitle(layer: Int, _ selection: HeadSelection) -> String {
    "attention of patch (\(patch.column),\(patch.row)) at layer \(layer), \(describe(selection))"
  }
}
