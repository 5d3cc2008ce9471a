import Foundation
import VAModels

/// One image through a DETR checkpoint to a figure, a page and a dump, each when asked for: what
/// `vit-attend` runs per image for a `DetrForObjectDetection` folder. `BatchRun` drives it
/// over folders. Draws DETR's Figure 6 (no `--map`: the detections above `scoreThreshold`,
/// each object query's cross-attention) or Figure 3 (`--map encoder`: the encoder's
/// self-attention at `--query`, the image's centre by default).
public struct DETRPipeline: ImageProcessing {
  /// The checkpoint every image runs through.
  public let model: DETRModel
  /// How each image is decoded and sized (`--resize fit` is `DetrImageProcessor`'s).
  public let input: InputSettings
  /// What the figure shows and how it looks; `layer` picks the decoder layer (default
  /// figure) or the encoder layer (`--map encoder`).
  public let settings: FigureSettings
  /// The class probability a detection must exceed (`--score`; DETR's notebook uses 0.7).
  public let scoreThreshold: Float

  /// The maps a DETR checkpoint draws: the default figure and `--map encoder`.
  public static let maps: [MapKind?] = [nil, .encoder]

  /// The `--map` drawn.
  public var map: MapKind? { settings.map }

  /// A pipeline, after refusing by name what DETR's figures cannot show: another `--map`, one
  /// head or a fusion other than the mean (both figures average the heads, as DETR's
  /// notebook reads `nn.MultiheadAttention`), `--style bare`, a `--dump-attention` other than
  /// `full`, a `--layer` beyond the model's, a score outside [0, 1].
  /// - Throws: `VisionAttentionError.notForFamily` or `.layerOutOfRange`.
  public init(model: DETRModel, input: InputSettings = InputSettings(), settings: FigureSettings = FigureSettings(), scoreThreshold: Float = 0.7) throws(VisionAttentionError) {
    func refuse(_ what: String, _ reason: String) -> VisionAttentionError { .notForFamily(what: what, family: "DETR", reason: reason) }
    if let map = settings.map, !Self.maps.contains(map) {
      throw refuse("--map \(map.rawValue)", "DETR draws its detections with each object query's cross-attention (no --map, DETR's Figure 6) and --map encoder (Figure 3)")
    }
    let averaged = "DETR's figures average the heads, as DETR's notebook reads nn.MultiheadAttention"
    if let head = settings.head { throw refuse("--head \(head)", averaged) }
    if let fuse = settings.fuse, fuse != .mean { throw refuse("--fuse \(fuse.rawValue)", averaged) }
    if settings.style == .bare { throw refuse("--style bare", "a DETR figure is several maps, one per detected object") }
    if let dump = settings.dumpAttention, dump != .full { throw refuse("--dump-attention \(dump.rawValue)", "a DETR dump holds every attention map in full") }
    if case .classIndex = settings.target { throw refuse("--class", "DETR's figures show attention, not a class's gradients") }
    if case .embedding = settings.target { throw refuse("--target-embedding", "DETR's figures show attention, not gradients") }
    guard (0...1).contains(scoreThreshold) else { throw refuse("--score \(scoreThreshold)", "a score is a class probability, between 0 and 1") }
    let detr = model.imported.model
    let layers = settings.map == .encoder ? detr.encoder.count : detr.decoder.count
    if let layer = settings.layer, layer >= layers { throw .layerOutOfRange(layer: layer, layers: layers) }
    (self.model, self.input, self.settings, self.scoreThreshold) = (model, input, settings, scoreThreshold)
  }

  /// Reads `path`, runs the model and writes `outputs` (each through a temporary file and a
  /// rename, after everything is computed); returns the detections for the index.
  /// - Throws: `VisionAttentionError.notForFamily` for `--per-head` (DETR's maps average the
  ///   heads), `.queryOutsideImage`, or the decoder's and writers' errors.
  @discardableResult
  public func process(_ path: String, outputs: Pipeline.Outputs) throws -> ImageSummary? {
    if outputs.perHead { throw VisionAttentionError.notForFamily(what: "--per-head", family: "DETR", reason: "DETR's figures average the heads") }
    let result = try DETRImageAttention(contentsOfFile: path, model: model, input: input, attentionLimit: settings.fullAttentionLimit)
    let detections = result.detections(threshold: scoreThreshold)
    var figure: RenderedFigure?
    var text: [(key: String, value: String)] = [("Software", "vit-attend"), ("input", path), ("model", model.path), ("map", settings.map?.rawValue ?? "default")]
    if settings.map == .encoder {
      let point = try settings.query?.resolved(width: result.originalWidth, height: result.originalHeight) ?? (result.originalWidth / 2, result.originalHeight / 2)
      text += [("query", "\(point.0),\(point.1)"), ("layer", String(settings.layer ?? model.imported.model.encoder.count - 1))]
      if outputs.figure != nil {
        figure = result.encoderFigure(x: point.0, y: point.1, layer: settings.layer, colormap: settings.colormap, alpha: settings.alpha, upsample: settings.upsample)
      }
    } else {
      text += [("score", String(scoreThreshold)), ("layer", String(settings.layer ?? model.imported.model.decoder.count - 1))]
      if outputs.figure != nil {
        figure = result.detectionFigure(threshold: scoreThreshold, layer: settings.layer, colormap: settings.colormap, alpha: settings.alpha, upsample: settings.upsample)
      }
    }
    let encoderLayer = settings.map == .encoder ? settings.layer : nil, decoderLayer = settings.map == .encoder ? nil : settings.layer
    let page = try outputs.page.map { _ in
      try result.page(threshold: scoreThreshold, decoderLayer: decoderLayer, encoderLayer: encoderLayer, colormap: settings.colormap, alpha: settings.alpha)
    }
    if let destination = outputs.page, let page { try AtomicFile.write(page, to: destination) }
    if let destination = outputs.figure, let figure { try figure.image.writePNG(to: destination, text: text) }
    if let destination = outputs.dump {
      try result.writeDump(to: destination, input: path, metadata: Dictionary(text.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
    }
    let detr = model.imported.model
    var summary = ImageSummary(
      prediction: nil, gridWidth: result.output.featureWidth, gridHeight: result.output.featureHeight,
      layers: detr.decoder.count, heads: detr.configuration.decoderHeads)
    summary.detections = detections.map {
      IndexRecord.Detection(label: result.label($0.label), score: Double($0.score), box: [$0.minX, $0.minY, $0.maxX, $0.maxY].map(Double.init))
    }
    return summary
  }
}
