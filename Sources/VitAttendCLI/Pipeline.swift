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
    let run = try model.run(prepared)
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
      var writer = SafetensorsWriter()
      writer.metadata = Dictionary(uniqueKeysWithValues: scene.textChunks(input: job.input).map { ($0.key, $0.value) })
      writer.add("input", shape: [3, geometry.height, geometry.width], values: run.input)
      if let logits = run.logits { writer.add("logits", shape: [logits.count], values: logits) }
      let t = run.attention.tokens
      for (l, layer) in run.attention.layers.enumerated() {
        writer.add("attn.\(l)", shape: [run.attention.heads, t, t], values: layer)
      }
      if let pool = run.pool { writer.add("attn.pool", shape: [pool.heads, pool.queries, pool.values.count / (pool.heads * pool.queries)], values: pool.values) }
      for extra in figure.tensors { writer.add(extra.name, shape: extra.shape, values: extra.values) }
      try AtomicFile.write(writer.serialized(), to: dump)
    }
  }
}

/// A figure and the raw tensors behind it, for `--dump`.
struct RenderedFigure {
  var image: Image
  var tensors: [(name: String, shape: [Int], values: [Float])] = []
}
