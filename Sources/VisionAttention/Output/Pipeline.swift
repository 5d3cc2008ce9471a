import Foundation
import VAImageIO
import VAInspection
import VARendering
import VASafetensors

/// One image through the model to a figure, a page and a dump, each when asked for: what
/// `vit-attend` runs per image. `BatchRun` drives it over many images.
public struct Pipeline: Sendable {
  /// The model every image runs through.
  public let model: any InspectableModel
  /// How each image is decoded and sized for the model.
  public let input: InputSettings
  /// What the figure shows and how it looks.
  public let settings: FigureSettings

  /// A pipeline with `vit-attend`'s defaults unless given.
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

    /// Outputs at the given paths; nil skips one.
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
    let result = ImageAttention(prepared, model: model, run: try model.run(prepared.image, capture: plan.capture, features: plan.features))
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
