import Foundation
import VAImageIO
import VASafetensors

/// `--dump` and the index record of a Swin run.
extension SwinScene {
  /// Streams the dump to `path` (header first, through a temporary file and a rename):
  /// `input` `[3, H, W]` (the normalised tensor the model saw), `attn.{l}`
  /// `[windows, heads, N, N]` for every block `l` counted through the stages from 0 (the
  /// post-softmax weights the model computed, shift mask included, windows row-major over the
  /// cyclically shifted, padded map as timm and transformers partition it), `logits`
  /// `[classes]` when the model has a head, then the figure's own tensors. The metadata holds
  /// the figure's parameters, how the input file maps to the model input, and per block
  /// (`attn.{l}.*`, see `blockMetadata`) where its windows lie, so a row maps back to pixels.
  public func writeDump(_ figure: RenderedFigure, input path: String, to destination: String) throws {
    typealias Entry = SafetensorsStreamWriter.Entry
    var tensors: [(entry: Entry, values: [Float])] = [(Entry("input", shape: [3, image.height, image.width]), input)]
    // --dump-attention none leaves the weights out; rows are refused (a window is its unit).
    for (l, g) in blocks.enumerated() where settings.dumpAttention != DumpAttention.none {
      tensors.append((Entry("attn.\(l)", shape: [g.windowCount, heads(l), g.tokensPerWindow, g.tokensPerWindow]), attention[l]))
    }
    if let logits { tensors.append((Entry("logits", shape: [logits.count]), logits)) }
    for extra in figure.tensors { tensors.append((Entry(extra.name, shape: extra.shape), extra.values)) }
    let entries = textChunks(input: path) + inputMetadata() + blockMetadata()
    let metadata = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    let writer = try SafetensorsStreamWriter(path: destination, entries: tensors.map(\.entry), metadata: metadata)
    for tensor in tensors { try writer.write(tensor.values) }
    try writer.finish()
  }

  /// How the input file maps to the model input (as a ViT dump's `geometryMetadata`): a model
  /// input pixel (x, y) is file pixel ((x + crop_x) / scale, (y + crop_y) / scale).
  func inputMetadata() -> [(key: String, value: String)] {
    let c = swin.model.configuration
    return [
      ("patch_size", String(c.patchSize)), ("blocks", String(blocks.count)),
      ("original_width", String(geometry.originalWidth)), ("original_height", String(geometry.originalHeight)),
      ("scale", String(geometry.scale)), ("resized_width", String(geometry.resizedWidth)), ("resized_height", String(geometry.resizedHeight)),
      ("crop_x", String(geometry.cropX)), ("crop_y", String(geometry.cropY)),
      ("input_width", String(geometry.width)), ("input_height", String(geometry.height)),
      ("mean", c.mean.map { String($0) }.joined(separator: ",")), ("std", c.std.map { String($0) }.joined(separator: ",")),
    ]
  }

  /// Per block `l`: `attn.{l}.stage`; `attn.{l}.map` "height,width" in cells, each cell
  /// `attn.{l}.cell_pixels` model-input pixels a side; `attn.{l}.window` "height,width";
  /// `attn.{l}.shift` "y,x" (the map is rolled up and left by it before partitioning);
  /// `attn.{l}.padded` "height,width" (a multiple of the window) and `attn.{l}.pad_order`
  /// (`pad-then-roll`, transformers, or `roll-then-pad`, timm). Window `w`'s token `t` sits at
  /// row `w / (padded_width / window_width) · window_height + t / window_width` of the rolled,
  /// padded map (column likewise); undo the roll to find its cell.
  func blockMetadata() -> [(key: String, value: String)] {
    blocks.enumerated().flatMap { l, g -> [(key: String, value: String)] in
      [
        ("attn.\(l).stage", String(g.stage)), ("attn.\(l).map", "\(g.height),\(g.width)"),
        ("attn.\(l).cell_pixels", String(cellPixels(l))), ("attn.\(l).window", "\(g.windowHeight),\(g.windowWidth)"),
        ("attn.\(l).shift", "\(g.shiftY),\(g.shiftX)"), ("attn.\(l).padded", "\(g.paddedHeight),\(g.paddedWidth)"),
        ("attn.\(l).pad_order", g.padsBeforeShift ? "pad-then-roll" : "roll-then-pad"),
      ]
    }
  }

  /// The figure as `--style` asks: full panels, or (`bare`) the one map alone at the model
  /// input's size.
  public func styledFigure() throws(VisionAttentionError) -> RenderedFigure {
    var figure = try figure()
    if settings.style == .bare, let (values, gw, gh, cell, shown) = shownMap() {
      figure.image = cellImage(values, gridWidth: gw, gridHeight: gh, cell: cell, shown: shown, marked: false, width: image.width).image
    }
    return figure
  }

  /// The one map the figure shows, with its grid, when it shows one: `--map query` at one
  /// block (`--layer`, else the last), `rollout` (over the first map) or `gradcam` (the last).
  func shownMap() -> (values: [Float], gridWidth: Int, gridHeight: Int, cell: Int, shown: [Bool]?)? {
    switch settings.map {
    case .query:
      let l = settings.layer ?? blocks.count - 1
      let (values, window) = queryMap(block: l, selection)
      return (values, blocks[l].width, blocks[l].height, cellPixels(l), window)
    case .rollout: return (effectiveField(), blocks[0].width, blocks[0].height, cellPixels(0), nil)
    case .gradcam:
      let l = blocks.count - 1
      return gradCAM.map { ($0, blocks[l].width, blocks[l].height, cellPixels(l), nil) }
    default: return nil
    }
  }

  /// What an index records: the top-1, and the entropy and peak of the shown map when the
  /// figure shows one (`shownMap`).
  public func summary() throws(VisionAttentionError) -> ImageSummary {
    let last = blocks.count - 1
    var summary = ImageSummary(
      prediction: prediction, gridWidth: blocks[last].width, gridHeight: blocks[last].height, layers: blocks.count, heads: heads(last))
    if let (values, gw, gh, cell, _) = shownMap() {
      (summary.shownMap, summary.gridWidth, summary.gridHeight) = (values, gw, gh)
      summary.entropy = Scene.entropyBits(values)
      let best = values.indices.max { values[$0] < values[$1] } ?? 0
      let (column, row) = (best % gw, best / gw)
      let centre = geometry.originalPoint(x: (Double(column) + 0.5) * Double(cell), y: (Double(row) + 0.5) * Double(cell))
      summary.peak = (centre.x, centre.y, column, row)
    }
    return summary
  }
}
