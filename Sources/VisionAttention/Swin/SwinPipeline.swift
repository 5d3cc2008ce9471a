import Foundation
import VAImageIO
import VAInspection
import VAModels
import VATensorCore

/// One image through a Swin checkpoint to its figure, page and dump: what `vit-attend` runs
/// per image for the Swin family. `BatchRun` drives it over many images, one at a time.
///
/// Sizing (`--resize`): `fit` scales the longer side to the checkpoint's trained size
/// (`SwinModel.inputSize`) and centre-crops to a multiple of the patch, as a ViT's `fit` does;
/// `none` keeps the image's pixels, cropped to a multiple of the patch for a timm checkpoint
/// (timm's `strict_img_size`) and whole for a transformers one, which pads the input itself.
public struct SwinPipeline: ImageProcessing {
  /// The checkpoint every image runs through.
  public let swin: SwinModel
  /// How each image is decoded and sized for the model.
  public let input: InputSettings
  /// What the figure shows and how it looks.
  public let settings: FigureSettings

  /// The maps a Swin checkpoint draws; every other `--map` is refused by `init`.
  public static let maps: [MapKind?] = [nil, .query, .heads, .distance, .rollout, .gradcam]

  /// A pipeline for `swin`.
  /// - Throws: `VisionAttentionError.notForFamily` for a map or target Swin does not have.
  public init(swin: SwinModel, input: InputSettings = InputSettings(), settings: FigureSettings = FigureSettings()) throws(VisionAttentionError) {
    if !Self.maps.contains(settings.map), let map = settings.map { throw Self.refusal(map) }
    if settings.map == .gradcam {
      guard swin.model.head != nil else { throw .noClassifier }
      if case .embedding = settings.target {
        throw .notForFamily(what: "--target-embedding", family: "Swin", reason: "Swin's Grad-CAM explains a class of its classifier (--class)")
      }
    }
    if settings.style == .bare, settings.map == nil || settings.map == .heads || settings.map == .distance {
      throw .bareNeedsOneMap(map: settings.map?.rawValue ?? "default")
    }
    self.swin = swin
    self.input = input
    self.settings = settings
  }

  /// The `--map` drawn (nil: the default figure).
  public var map: MapKind? { settings.map }

  /// Why `map` is not drawn for Swin, naming it.
  static func refusal(_ map: MapKind) -> VisionAttentionError {
    let reason =
      switch map {
      case .cls, .mask: "Swin has no class token: use --map query (a window's attention) or rollout (the effective field)"
      case .posembed: "Swin has no absolute position embeddings to compare (its relative bias is per window)"
      case .gradrollout, .attngrad: "gradient-weighted attention is not defined across Swin's windows here; use --map gradcam"
      default: "not drawn for windowed attention; Swin draws the default figure, --map \(maps.compactMap { $0?.rawValue }.joined(separator: ", "))"
      }
    return .notForFamily(what: "--map \(map.rawValue)", family: "Swin", reason: reason)
  }

  /// The image sized for the model, with the geometry that maps it back to the file.
  public func prepare(_ original: Image) throws(VisionAttentionError) -> (geometry: InputGeometry, image: Image) {
    let p = swin.model.configuration.patchSize
    let fit = input.resize == .fit
    // transformers pads a kept image itself: a 1-pixel grid keeps every pixel.
    let prepared = try PreparedImage(
      original, patchSize: fit || swin.isTimm ? p : 1, longerSide: fit ? max(swin.inputSize.height, swin.inputSize.width) : nil)
    return (prepared.geometry, prepared.image)
  }

  /// Runs the model on `path`'s image: the scene every output is drawn from.
  public func scene(_ path: String) throws -> SwinScene {
    let (geometry, image) = try prepare(try Image(contentsOfFile: path, options: input.decode).rgb())
    let c = swin.model.configuration
    let values = image.planarFloats(mean: c.mean, std: c.std)
    let x = Tensor(shape: [3, image.height, image.width], scalars: values)
    var output: SwinTransformer.Output
    var cam: [Float]?
    if settings.map == .gradcam {
      (output, cam) = try gradCAM(x)
    } else {
      output = try withGradientsDisabled { try swin.model(x) }
    }
    return try SwinScene(settings: settings, swin: swin, geometry: geometry, image: image, input: values, output: output, gradCAM: cam)
  }

  /// Grad-CAM as pytorch-grad-cam computes it for Swin, on the final norm's output (timm's
  /// `norm`, transformers' `layernorm`; their Swin tutorial's reshape of `[h·w, C]` to
  /// `[C, h, w]`): channel weights are the gradient of the class score averaged over the
  /// cells, the map `relu(Σ_c w_c A_c)` `[h · w]`, not rescaled.
  func gradCAM(_ x: Tensor) throws -> (SwinTransformer.Output, [Float]) {
    let input = Tensor(shape: [1] + x.shape, scalars: x.scalars, requiresGrad: true)
    return try withGradientsEnabled {
      let out = try swin.model(batch: input)
      out.tokens.retainGrad()
      let logits = out.logits!
      let scores = logits.scalars
      var k = scores.indices.max { scores[$0] < scores[$1] }!
      if case .classIndex(let index) = settings.target {
        guard index < scores.count else { throw VisionAttentionError.classOutOfRange(class: index, classes: scores.count) }
        k = index
      }
      logits.sliced(axis: 1, range: k..<(k + 1)).sum().backward()
      let (n, d) = (out.tokens.shape[1], out.tokens.shape[2])
      let gradient = out.tokens.grad?.scalars ?? [Float](repeating: 0, count: n * d)
      let cam = Attribution.gradCAM(activations: out.tokens.scalars[...], gradient: gradient[...], prefix: 0, patches: n, channels: d)
      var single = out
      single.logits = logits.squeezed(0)
      single.attention = out.attention.map { $0.squeezed(0) }
      return (single, cam)
    }
  }

  /// Reads `path`, runs the model and writes `outputs`; everything is drawn before anything
  /// is written, each file through a temporary file and a rename.
  @discardableResult
  public func process(_ path: String, outputs: Pipeline.Outputs) throws -> ImageSummary? {
    let scene = try scene(path)
    let figure = outputs.figure != nil || outputs.dump != nil ? try scene.styledFigure() : nil
    let page = try outputs.page.map { _ in try scene.page(input: path) }
    let summary = try scene.summary()
    if let destination = outputs.page, let page { try AtomicFile.write(page, to: destination) }
    if let destination = outputs.figure, let figure { try figure.image.writePNG(to: destination, text: scene.textChunks(input: path)) }
    if let destination = outputs.dump, let figure { try scene.writeDump(figure, input: path, to: destination) }
    return summary
  }
}
