import Foundation
import VAImageIO
import VAInspection
import VARendering
import VASafetensors

/// One image through the model to a figure, a page and a dump, each when asked for: what
/// `vit-attend` runs per image. `BatchRun` drives it over many images.
public struct Pipeline: Sendable {
  public let model: any InspectableModel
  public let input: InputSettings
  public let settings: FigureSettings

  public init(model: any InspectableModel, input: InputSettings = InputSettings(), settings: FigureSettings = FigureSettings()) {
    self.model = model
    self.input = input
    self.settings = settings
  }

  /// Where one image's outputs go; nil skips that output.
  public struct Outputs: Equatable, Sendable {
    /// The figure (PNG).
    public var figure: String?
    /// The interactive page (HTML).
    public var page: String?
    /// The numbers behind the figure (safetensors): `input`, `attn.{l}`, `logits`, and the
    /// map's own tensors.
    public var dump: String?
    /// Also one figure per head beside `figure`: `perHeadPath(figure, head)`.
    public var perHead: Bool

    public init(figure: String? = nil, page: String? = nil, dump: String? = nil, perHead: Bool = false) {
      self.figure = figure
      self.page = page
      self.dump = dump
      self.perHead = perHead
    }

    /// `NAME-head<h>.png` beside `figure` (`cat.png` → `cat-head0.png`).
    public static func perHeadPath(_ figure: String, head: Int) -> String {
      let stem = (figure as NSString).deletingPathExtension
      return "\(stem)-head\(head).png"
    }
  }

  /// Reads `path`, runs the model and writes `outputs`.
  @discardableResult
  public func process(_ path: String, outputs: Outputs) throws -> ImageSummary? {
    let prepared = try PreparedImage(contentsOfFile: path, for: model, input: input)
    let plan = try attentionPlan(prepared.geometry, outputs: outputs)
    let result = ImageAttention(prepared, model: model, run: try model.run(prepared.image, capture: plan.capture))
    return try write(result, input: path, outputs: outputs, plan: plan)
  }

  /// What to keep of one image's attention for `outputs`.
  public func attentionPlan(_ geometry: InputGeometry, outputs: Outputs) throws(VisionAttentionError) -> AttentionPlan {
    try AttentionPlan(settings: settings, model: model, geometry: geometry, page: outputs.page != nil, dump: outputs.dump != nil)
  }

  /// Draws and writes one run's outputs. Everything is computed before anything is written,
  /// so an error leaves no output; each file is written through a temporary file and a
  /// rename. The folders the outputs go in must exist (`BatchRun` makes those of mirrored
  /// trees).
  /// - Parameter summarize: also compute the image's summary numbers (an index or a data-set
  ///   summary wants them; they may cost a second rollout).
  @discardableResult
  public func write(
    _ result: ImageAttention, input path: String, outputs: Outputs, plan: AttentionPlan, summarize: Bool = true
  ) throws -> ImageSummary? {
    let scene = try result.scene(settings)
    // The figure also carries the tensors a dump adds; a page alone skips it.
    let figure = outputs.figure != nil || outputs.dump != nil ? try scene.figure() : nil
    let page = try outputs.page.map { _ in try scene.page(input: path) }
    var headFigures: [(path: String, scene: Scene, figure: RenderedFigure)] = []
    if outputs.perHead, let destination = outputs.figure {
      for head in 0..<result.record.heads {
        var single = settings
        (single.head, single.fuse) = (head, nil)
        let headScene = try result.scene(single)
        headFigures.append((Outputs.perHeadPath(destination, head: head), headScene, try headScene.figure()))
      }
    }
    let summary = summarize ? try scene.summary() : nil

    if let destination = outputs.page, let page { try AtomicFile.write(page, to: destination) }
    if let destination = outputs.figure, let figure {
      try figure.image.writePNG(to: destination, text: scene.textChunks(input: path))
    }
    for (destination, headScene, headFigure) in headFigures {
      try headFigure.image.writePNG(to: destination, text: headScene.textChunks(input: path))
    }
    if let destination = outputs.dump, let figure { try scene.writeDump(figure, input: path, plan: plan, to: destination) }
    return summary
  }

  /// Makes the folder `path` goes in (mirrored output trees), if missing.
  static func makeParentFolder(of path: String) throws(VisionAttentionError) {
    let folder = (path as NSString).deletingLastPathComponent
    guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw .writeFailed(path: path, reason: "cannot make its folder: \(error.localizedDescription)")
    }
  }
}

extension Scene {
  /// The interactive page for this scene (`vit-attend --html`), one self-contained file.
  public func page(input: String) throws -> [UInt8] {
    try InspectorPage.html(title: "vit-attend: \((input as NSString).lastPathComponent)", payload: inspectorPayload(input: input))
  }

  /// Streams the dump to `path` tensor by tensor (header first, then each layer, through a
  /// temporary file and a rename), so even a `full` dump of many gigabytes is never
  /// assembled in memory: `input` `[3,H,W]`; `logits` `[classes]` when the model has a
  /// classifier, else `embedding` `[D]` when it has one; the attention as `plan` says
  /// (`attn.{l}` `[heads,T,T]`, or `attn_rows.{l}` `[heads,R,T]` with `attn_rows.tokens`
  /// `[R]`, or none); `attn.pool` for an attention-pooling head; then the figure's own
  /// tensors. The metadata holds the figure's parameters, the attention choice
  /// (`attention-dump`, `attention-values`, `full-attention-limit`) and the geometry that
  /// maps tokens back to the input file's pixels (`geometryMetadata`).
  public func writeDump(_ figure: RenderedFigure, input: String, plan: AttentionPlan, to path: String) throws {
    typealias Entry = SafetensorsStreamWriter.Entry
    let record = run.attention
    var tensors: [(entry: Entry, write: (SafetensorsStreamWriter) throws -> Void)] = [
      (Entry("input", shape: [3, geometry.height, geometry.width]), { try $0.write(run.input) }),
    ]
    if let logits = run.logits { tensors.append((Entry("logits", shape: [logits.count]), { try $0.write(logits) })) }
    if let embedding = run.embedding { tensors.append((Entry("embedding", shape: [embedding.count]), { try $0.write(embedding) })) }
    let t = record.tokens, rows = plan.rowTokens
    switch plan.dumpAttention ?? .none {
    case .full:
      for l in record.layers.indices {
        tensors.append((Entry("attn.\(l)", shape: [record.heads, t, t]), { try $0.write(record.layers[l]) }))
      }
    case .rows:
      tensors.append((Entry("attn_rows.tokens", dtype: .i64, shape: [rows.count]), { try $0.write(integers: rows) }))
      for l in record.layers.indices {
        tensors.append((Entry("attn_rows.\(l)", shape: [record.heads, rows.count, t]), { try $0.write(record.rows(layer: l, tokens: rows)) }))
      }
    case .none:
      break
    }
    if let pool = record.pool {
      tensors.append((Entry("attn.pool", shape: [record.poolHeads, 1, record.patchCount]), { try $0.write(pool) }))
    }
    for extra in figure.tensors {
      tensors.append((Entry(extra.name, shape: extra.shape), { try $0.write(extra.values) }))
    }
    var metadata = Dictionary((textChunks(input: input) + geometryMetadata()).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    metadata["attention-dump"] = (plan.dumpAttention ?? .none).rawValue
    metadata["attention-values"] = String(plan.values)
    metadata["full-attention-limit"] = String(settings.fullAttentionLimit)
    let writer = try SafetensorsStreamWriter(path: path, entries: tensors.map(\.entry), metadata: metadata)
    for tensor in tensors { try tensor.write(writer) }
    try writer.finish()
  }

  /// How token `prefix_tokens + r · grid_width + c` maps back to the input file: patch
  /// (c, r) covers model-input pixels [c·p, (c+1)·p) × [r·p, (r+1)·p); a model-input pixel
  /// (x, y) is file pixel ((x + crop_x) / scale, (y + crop_y) / scale). Values are decimal
  /// text (safetensors metadata is a string map); lists are comma-separated.
  public func geometryMetadata() -> [(key: String, value: String)] {
    var entries: [(key: String, value: String)] = [
      ("patch_size", String(geometry.patchSize)),
      ("grid_width", String(attention.gridWidth)), ("grid_height", String(attention.gridHeight)),
      ("prefix_tokens", String(attention.prefixTokens)), ("class_token", String(attention.hasClassToken)),
      ("original_width", String(geometry.originalWidth)), ("original_height", String(geometry.originalHeight)),
      ("scale", String(geometry.scale)),
      ("resized_width", String(geometry.resizedWidth)), ("resized_height", String(geometry.resizedHeight)),
      ("crop_x", String(geometry.cropX)), ("crop_y", String(geometry.cropY)),
      ("input_width", String(geometry.width)), ("input_height", String(geometry.height)),
    ]
    if let n = model.normalization {
      entries += [("mean", n.mean.map { String($0) }.joined(separator: ",")), ("std", n.std.map { String($0) }.joined(separator: ","))]
    } else {
      entries.append(("normalization", "none: input is RGB / 255"))
    }
    return entries
  }
}

/// A figure and the raw tensors behind it, for `--dump`.
public struct RenderedFigure {
  public var image: Image
  /// Named tensors behind the figure (`rollout`, `distance`, `erf`, …) for the dump.
  public var tensors: [(name: String, shape: [Int], values: [Float])] = []

  public init(image: Image, tensors: [(name: String, shape: [Int], values: [Float])] = []) {
    self.image = image
    self.tensors = tensors
  }
}
