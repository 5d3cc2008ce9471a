import Foundation
import VAImageIO
import VAInspection
import VARendering
import VASafetensors

/// One image through the model to a figure, a page and a dump, each when asked for.
struct Pipeline {
  let settings: Settings
  let model: any InspectableModel

  func process(_ job: OutputPlan.Job, dump: String?) throws {
    let original = try Image(contentsOfFile: job.input, options: settings.decode).rgb()
    let geometry = try InputGeometry(
      originalWidth: original.width, originalHeight: original.height, patchSize: model.patchSize,
      longerSide: settings.resize == .fit ? model.preferredLongerSide : nil)
    var prepared = original
    if geometry.scale != 1 {
      prepared = prepared.resized(width: geometry.resizedWidth, height: geometry.resizedHeight, filter: .bicubic)
    }
    prepared = prepared.cropped(x: geometry.cropX, y: geometry.cropY, width: geometry.width, height: geometry.height)
    let plan = try AttentionPlan(settings: settings, model: model, geometry: geometry, page: job.page != nil, dump: dump != nil)
    let run = try model.run(prepared, capture: plan.capture)
    let scene = try Scene(settings: settings, model: model, geometry: geometry, image: prepared, run: run)
    // Everything is computed before anything is written, so an error leaves no output.
    // The figure also carries the tensors a dump adds; a page alone skips it.
    let figure = job.output != nil || dump != nil ? try scene.figure() : nil
    let page = try job.page.map { _ in
      try InspectorPage.html(title: "vit-attend: \((job.input as NSString).lastPathComponent)", payload: scene.inspectorPayload(input: job.input))
    }

    if let path = job.page, let page { try AtomicFile.write(page, to: path) }
    guard let figure else { return }
    if let output = job.output {
      try figure.image.writePNG(to: output, text: scene.textChunks(input: job.input))
    }
    if let dump {
      try writeDump(to: dump, run: run, plan: plan, figure: figure, geometry: geometry, metadata: scene.textChunks(input: job.input))
    }
  }

  /// Streams the dump to disk tensor by tensor (header first, then each layer), so even a
  /// `full` dump of many gigabytes is never assembled in memory.
  private func writeDump(
    to path: String, run: ModelRun, plan: AttentionPlan, figure: RenderedFigure, geometry: InputGeometry,
    metadata chunks: [(key: String, value: String)]
  ) throws {
    typealias Entry = SafetensorsStreamWriter.Entry
    let record = run.attention
    var tensors: [(entry: Entry, write: (SafetensorsStreamWriter) throws -> Void)] = [
      (Entry("input", shape: [3, geometry.height, geometry.width]), { try $0.write(run.input) }),
    ]
    if let logits = run.logits { tensors.append((Entry("logits", shape: [logits.count]), { try $0.write(logits) })) }
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
    for extra in figure.tensors {
      tensors.append((Entry(extra.name, shape: extra.shape), { try $0.write(extra.values) }))
    }
    var metadata = Dictionary(uniqueKeysWithValues: chunks.map { ($0.key, $0.value) })
    metadata["attention-dump"] = (plan.dumpAttention ?? .none).rawValue
    metadata["attention-values"] = String(plan.values)
    metadata["full-attention-limit"] = String(settings.fullAttentionLimit)
    let writer = try SafetensorsStreamWriter(path: path, entries: tensors.map(\.entry), metadata: metadata)
    for tensor in tensors { try tensor.write(writer) }
    try writer.finish()
  }
}

/// What to keep of the attention for one image, decided before the model runs from the size
/// of its full matrices, L·H·T², against `--full-attention-limit`.
struct AttentionPlan {
  /// L·H·T² for this image.
  let values: Int
  /// Whether every `[heads, T, T]` is kept (at most the limit, or a `full` dump asked for).
  let full: Bool
  /// Query tokens whose rows are kept and dumped: the class token (0) when there is one, then
  /// the query patch's token.
  let rowTokens: [Int]
  /// What the dump holds, nil without `--dump`.
  let dumpAttention: DumpAttention?
  let capture: AttentionCapture

  init(settings: Settings, model: any InspectableModel, geometry: InputGeometry, page: Bool, dump: Bool) throws {
    let gw = geometry.gridWidth, gh = geometry.gridHeight
    let shape = model.attentionShape(gridWidth: gw, gridHeight: gh)
    let squared = shape.tokens.multipliedReportingOverflow(by: shape.tokens)
    let total = squared.partialValue.multipliedReportingOverflow(by: shape.layers * shape.heads)
    values = squared.overflow || total.overflow ? Int.max : total.partialValue
    let withinLimit = values <= settings.fullAttentionLimit
    let (_, patch) = try Scene.resolveQuery(settings: settings, geometry: geometry)
    let queryToken = shape.tokens - gw * gh + patch.row * gw + patch.column
    rowTokens = (shape.hasClassToken ? [0] : []) + [queryToken]
    dumpAttention = dump ? settings.dumpAttention ?? (withinLimit ? .full : .rows) : nil
    full = withinLimit || dumpAttention == .full
    if !full, settings.map == .rollout || page, settings.discardRatio > 0 {
      throw VitAttendError.needsFullAttention(what: "--discard-ratio", values: values, limit: settings.fullAttentionLimit)
    }
    // Rollout and distance recompute every layer's rows; the page recomputes a hovered
    // patch's rows in the browser from the same queries and keys.
    let queriesKeys = page || settings.map == .rollout || settings.map == .distance
    capture = full ? .full : .rows(tokens: rowTokens, queriesKeys: queriesKeys)
  }
}

/// A figure and the raw tensors behind it, for `--dump`.
struct RenderedFigure {
  var image: Image
  var tensors: [(name: String, shape: [Int], values: [Float])] = []
}
