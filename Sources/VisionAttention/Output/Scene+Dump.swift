import Foundation
import VASafetensors

/// `--dump`: the numbers behind a figure, in a safetensors file.
extension Scene {
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
      (Entry("input", shape: [3, geometry.height, geometry.width]), { try $0.write(run.input) })
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
