import Foundation
import VAImageIO
import VAInspection
import VARendering
import VASafetensors

/// One image through the model to a figure, a page and a dump, each when asked for: what
/// `vit-attend` runs per image.
public struct Pipeline {
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

  /// Reads `path`, runs the model and writes `outputs`. Everything is computed before
  /// anything is written, so an error leaves no output; each file is written through a
  /// temporary file and a rename.
  public func process(_ path: String, outputs: Outputs) throws {
    let result = try ImageAttention(contentsOfFile: path, model: model, input: input)
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

    if let destination = outputs.page, let page { try AtomicFile.write(page, to: destination) }
    guard let figure else { return }
    if let destination = outputs.figure {
      try figure.image.writePNG(to: destination, text: scene.textChunks(input: path))
    }
    for (destination, headScene, headFigure) in headFigures {
      try headFigure.image.writePNG(to: destination, text: headScene.textChunks(input: path))
    }
    if let dump = outputs.dump {
      try AtomicFile.write(scene.dump(figure, input: path).serialized(), to: dump)
    }
  }
}

extension Scene {
  /// The interactive page for this scene (`vit-attend --html`), one self-contained file.
  public func page(input: String) throws -> [UInt8] {
    try InspectorPage.html(title: "vit-attend: \((input as NSString).lastPathComponent)", payload: inspectorPayload(input: input))
  }

  /// The dump's tensors: `input` `[3,H,W]`, `logits` `[classes]` when the model has a
  /// classifier, `attn.{l}` `[heads,T,T]` for every layer, then the figure's own tensors.
  public func dump(_ figure: RenderedFigure, input: String) -> SafetensorsWriter {
    var writer = SafetensorsWriter()
    writer.metadata = Dictionary(textChunks(input: input).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    writer.add("input", shape: [3, geometry.height, geometry.width], values: run.input)
    if let logits = run.logits { writer.add("logits", shape: [logits.count], values: logits) }
    let t = run.attention.tokens
    for (l, layer) in run.attention.layers.enumerated() {
      writer.add("attn.\(l)", shape: [run.attention.heads, t, t], values: layer)
    }
    for extra in figure.tensors { writer.add(extra.name, shape: extra.shape, values: extra.values) }
    return writer
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
