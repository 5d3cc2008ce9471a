import Foundation
import VAImageIO
import VAInspection
import VAModels
import VARendering

/// One image's Swin run, ready to draw: the sized image, every block's window attention with
/// its geometry, and the resolved query, blocks and heads. `SwinPipeline` makes it; the
/// figures, the dump and the summary read it.
///
/// Block `l` attends over a `height × width` map whose cells cover `P · 2^stage` input pixels
/// a side (`cellPixels`); its weights `attention[l]` are `[windows, heads, N, N]`, windows
/// row-major over the cyclically shifted (and padded) map, as `SwinBlockGeometry` describes.
public struct SwinScene {
  /// How the figure is drawn: map, block (`--layer`), heads, query, colours.
  public let settings: FigureSettings
  /// The checkpoint that ran.
  public let swin: SwinModel
  /// How the input file's pixels map to the model input and back.
  public let geometry: InputGeometry
  /// The model's input image (resized and cropped).
  public let image: Image
  /// The normalised input `[3, H, W]` the model saw.
  public let input: [Float]
  /// Per block, its weights `[windows, heads, N, N]` flattened.
  public let attention: [[Float]]
  /// Per block, where its windows lie.
  public let blocks: [SwinBlockGeometry]
  /// `[classes]`, when the model has a head.
  public let logits: [Float]?
  /// Grad-CAM over the last stage's map (`[h · w]`, from `SwinPipeline`), when the map needs it.
  public let gradCAM: [Float]?
  /// The query in the input file's pixels (`settings.query` resolved, or the centre).
  public let query: QueryPoint
  /// The query in the model input's pixels, clamped to the input.
  public let point: (x: Int, y: Int)
  /// The heads the maps show: `--head` (the default figure and `--map query`), `--fuse`, or
  /// the mean of all heads.
  public let selection: HeadSelection

  init(
    settings: FigureSettings, swin: SwinModel, geometry: InputGeometry, image: Image, input: [Float],
    output: SwinTransformer.Output, gradCAM: [Float]?
  ) throws(VisionAttentionError) {
    self.settings = settings
    self.swin = swin
    self.geometry = geometry
    self.image = image
    self.input = input
    attention = output.attention.map(\.scalars)
    blocks = output.geometry
    logits = output.logits?.scalars
    self.gradCAM = gradCAM
    let (pixel, _) = try geometry.resolveQuery(settings.query)
    query = QueryPoint(x: pixel.x, y: pixel.y)
    let p = geometry.modelPoint(x: Double(pixel.x) + 0.5, y: Double(pixel.y) + 0.5)
    point = (min(max(Int(p.x), 0), geometry.width - 1), min(max(Int(p.y), 0), geometry.height - 1))
    if let layer = settings.layer, layer >= blocks.count { throw .layerOutOfRange(layer: layer, layers: blocks.count) }
    let heads = swin.model.configuration.heads
    let stages = output.geometry.map(\.stage)
    // Only the default figure and --map query read --head (as for a ViT; vit-attend warns
    // that the others ignore it): the rest fuse every head.
    if let head = settings.head, settings.map == nil || settings.map == .query {
      // Stages have their own head counts: a head must exist in every block the map reads
      // (`--map query` reads the blocks shown, the default figure's field reads them all).
      guard head < heads.max()! else { throw .headOutOfRange(head: head, heads: heads.max()!) }
      let read = settings.map == .query ? settings.layer.map { [$0] } ?? Array(stages.indices) : Array(stages.indices)
      for l in read where head >= heads[stages[l]] {
        let having = stages.indices.filter { head < heads[stages[$0]] }.map(String.init).joined(separator: ", ")
        throw .notForFamily(
          what: "--head \(head) at block \(l)", family: "Swin",
          reason: "block \(l) (stage \(stages[l])) has \(heads[stages[l]]) \(heads[stages[l]] == 1 ? "head" : "heads"); pick a block that has it with --layer (\(having))")
      }
      selection = .head(head)
    } else {
      selection = .fused(settings.fuse ?? .mean)
    }
  }

  /// The blocks the per-block maps show: `--layer`'s, else every block.
  var shownBlocks: [Int] { settings.layer.map { [$0] } ?? Array(blocks.indices) }

  /// Heads of block `l`.
  func heads(_ l: Int) -> Int { swin.model.configuration.heads[blocks[l].stage] }

  /// Input pixels per side of one cell of block `l`'s map, `P · 2^stage`.
  func cellPixels(_ l: Int) -> Int { swin.model.configuration.patchSize << blocks[l].stage }

  /// The cell of block `l`'s map under the query, `y · width + x`.
  func queryCell(_ l: Int) -> Int {
    let g = blocks[l], c = cellPixels(l)
    return min(point.y / c, g.height - 1) * g.width + min(point.x / c, g.width - 1)
  }

  /// Names the heads a map was drawn from.
  func describe(_ selection: HeadSelection) -> String {
    switch selection {
    case .head(let h): "head \(h)"
    case .fused(let fusion): "\(fusion.rawValue) of heads"
    }
  }

  /// One weight of block `l` for `selection`: window `w`, query slot `i`, key slot `j`.
  func weight(_ l: Int, window w: Int, query i: Int, key j: Int, _ selection: HeadSelection) -> Float {
    let g = blocks[l], n = g.tokensPerWindow, h = heads(l)
    func at(_ head: Int) -> Float { attention[l][((w * h + head) * n + i) * n + j] }
    switch selection {
    case .head(let head): return at(head)
    case .fused(.mean): return (0..<h).reduce(Float(0)) { $0 + at($1) } / Float(h)
    case .fused(.max): return (0..<h).map(at).max()!
    case .fused(.min): return (0..<h).map(at).min()!
    }
  }

  /// The query's attention at block `l` over the block's map `[height · width]`: the row of
  /// the slot holding the query's cell, each key slot's weight put on the cell it reads
  /// (padding slots have none); `window` marks the cells of the query's window, the only ones
  /// it can see.
  public func queryMap(block l: Int, _ selection: HeadSelection) -> (values: [Float], window: [Bool]) {
    let g = blocks[l], n = g.tokensPerWindow
    let sources = g.sourceCells()
    let cell = queryCell(l)
    let slot = sources.firstIndex(of: cell)!
    let (w, i) = (slot / n, slot % n)
    var values = [Float](repeating: 0, count: g.height * g.width)
    var window = [Bool](repeating: false, count: values.count)
    for j in 0..<n {
      guard let key = sources[w * n + j] else { continue }
      values[key] = weight(l, window: w, query: i, key: j, selection)
      window[key] = true
    }
    return (values, window)
  }

  var modelCaption: String {
    ["model: \(swin.name)", predictionCaption].compactMap { $0 }.joined(separator: " | ")
  }

  /// The classifier's top-1 with its softmax probability, when the model has a head.
  var prediction: (index: Int, name: String?, probability: Double)? {
    guard let logits, let top = logits.indices.max(by: { logits[$0] < logits[$1] }) else { return nil }
    let m = Double(logits[top])
    let total = logits.reduce(0.0) { $0 + exp(Double($1) - m) }
    return (top, swin.classNames.flatMap { top < $0.count ? $0[top] : nil }, 1 / total)
  }

  var predictionCaption: String? {
    // As a ViT's caption says it (`Scene.predictionCaption`).
    prediction.map { p in "predicted: \(p.name.map { "\($0) (class \(p.index))" } ?? "class \(p.index)"), p = \(String(format: "%.2f", p.probability))" }
  }

  /// The parameters that made the figure, for PNG text chunks and dump metadata.
  public func textChunks(input: String) -> [(key: String, value: String)] {
    var chunks: [(key: String, value: String)] = [
      ("Software", "vit-attend"), ("input", input), ("model", swin.name), ("family", "Swin"),
      ("map", settings.map?.rawValue ?? "default"), ("query", "\(query)"), ("colormap", settings.colormap.rawValue),
    ]
    if let layer = settings.layer { chunks.append(("layer", String(layer))) }
    switch selection {
    case .head(let h): chunks.append(("head", String(h)))
    case .fused(let fusion): chunks.append(("fuse", fusion.rawValue))
    }
    if let predictionCaption { chunks.append(("prediction", predictionCaption)) }
    return chunks
  }
}
