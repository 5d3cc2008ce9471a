import VAImageIO
import VAInspection
import VARendering

/// One image run through a model: the image as the model saw it, how it maps back to the
/// input file's pixels, and the attention the model recorded. The entry point of the library:
///
/// ```swift
/// let result = try ImageAttention(contentsOfFile: "cat.png", model: BuiltInModel())
/// let map = result.queryMap(x: 170, y: 113)          // [gridHeight · gridWidth]
/// try result.overlay(map).writePNG(to: "overlay.png")
/// ```
public struct ImageAttention: Sendable {
  /// The model the image ran through.
  public let model: any InspectableModel
  /// How the input file's pixels map to the model's input and back.
  public let geometry: InputGeometry
  /// The model's input image (resized and cropped per `InputSettings.resize`).
  public let image: Image
  /// The model's input tensor, attention and logits.
  public let run: ModelRun

  /// Every layer's attention, `[heads, T, T]` per layer, with its token geometry.
  public var record: AttentionRecord { run.attention }

  /// Decodes `path` (PNG or JPEG, by content) and runs it through `model`, keeping every
  /// layer's attention, and the tokens with `features` (what `--map pca` and `--map norms` read).
  /// - Throws: `ImageIOError` for unreadable or corrupt files, `VisionAttentionError.imageTooSmall`
  ///   for a sliver too thin to enlarge to one patch per side, or the model's own errors.
  public init(contentsOfFile path: String, model: any InspectableModel, input: InputSettings = InputSettings(), features: Bool = false) throws {
    let prepared = try PreparedImage(contentsOfFile: path, for: model, input: input)
    try self.init(prepared, model: model, run: model.run(prepared.image, capture: .full, features: features))
  }

  /// Sizes `original` for `model` (see `ResizePolicy`) and runs it (keeping the tokens with
  /// `features`).
  public init(image original: Image, model: any InspectableModel, resize: ResizePolicy = .fit, features: Bool = false) throws {
    let prepared = try PreparedImage(original, for: model, resize: resize)
    try self.init(prepared, model: model, run: model.run(prepared.image, capture: .full, features: features))
  }

  /// Assembles a result from an image prepared for `model` and the model's run on it (what
  /// a batched run does for each image of the batch).
  public init(_ prepared: PreparedImage, model: any InspectableModel, run: ModelRun) {
    self.model = model
    self.geometry = prepared.geometry
    self.image = prepared.image
    self.run = run
  }

  /// The patch (column, row) under a pixel of the input file.
  public func patch(atX x: Int, y: Int) -> (column: Int, row: Int) {
    geometry.patch(atOriginalX: x, y: y)
  }

  /// Attention of the patch under input-file pixel (`x`, `y`) over every patch,
  /// `[gridHeight · gridWidth]` row-major, at `layer` (default: the last) for `heads`
  /// (default: the model's own choice).
  public func queryMap(x: Int, y: Int, layer: Int? = nil, heads: HeadSelection? = nil) -> [Float] {
    let p = patch(atX: x, y: y)
    return record.queryMap(
      column: p.column, row: p.row, layer: layer ?? record.layers.count - 1, heads ?? model.defaultSelection)
  }

  /// The patch holding `map`'s largest value (the first, on ties), and its centre in the
  /// input file's pixels. `map` is `[gridHeight · gridWidth]` row-major, as every map is;
  /// `excluding` leaves one patch out (a query's own patch, which self-attention often
  /// favours).
  public func peak(
    of map: [Float], excluding excluded: (column: Int, row: Int)? = nil
  ) -> (column: Int, row: Int, x: Double, y: Double, value: Float) {
    geometry.peak(of: map, excluding: excluded)
  }

  /// The patch-grid `values` (any map, `[gridHeight · gridWidth]`) colour-mapped over the
  /// model's input image, at its size: the plain overlay, no caption or colour bar.
  public func overlay(
    _ values: [Float], colormap: Colormap = .inferno, alpha: Float = 0.6, upsample: Upsampling = .bicubic
  ) -> Image {
    Self.overlay(
      values, on: image, gridWidth: record.gridWidth, gridHeight: record.gridHeight,
      colormap: colormap, alpha: alpha, upsample: upsample)
  }

  /// A patch-grid map normalised to [0, 1], upsampled to `image`'s size and colour-mapped
  /// over it.
  static func overlay(
    _ values: [Float], on image: Image, gridWidth: Int, gridHeight: Int,
    colormap: Colormap, alpha: Float, upsample: Upsampling
  ) -> Image {
    let map = HeatMap(gridWidth: gridWidth, gridHeight: gridHeight, values: values)
    var canvas = Canvas(image)
    let pixels = map.normalized().upsampled(width: image.width, height: image.height, method: upsample)
    canvas.overlay(pixels, width: image.width, height: image.height, x: 0, y: 0, colormap: colormap, alpha: alpha)
    return canvas.image
  }

  /// Everything the figures for `settings` are drawn from.
  /// - Throws: `VisionAttentionError` when the query is outside the image or the layer or head is
  ///   out of the model's range.
  public func scene(_ settings: FigureSettings = FigureSettings()) throws(VisionAttentionError) -> Scene {
    try Scene(settings: settings, model: model, geometry: geometry, image: image, run: run)
  }
}

/// An image decoded and sized for a model, not yet run: the part of a run that needs no
/// model weights, so a batch run prepares the next images while the model works.
public struct PreparedImage: Sendable {
  /// How the file's pixels map to `image`'s.
  public let geometry: InputGeometry
  /// The model's input: resized and cropped to a multiple of the patch size.
  public let image: Image

  /// Sizes `original` for `model` (see `ResizePolicy`); an image the policy would leave
  /// smaller than a patch is enlarged by a whole factor, nearest neighbour (see `InputGeometry`).
  /// - Throws: `VisionAttentionError.imageTooSmall` for a sliver too thin to enlarge.
  public init(_ original: Image, for model: any InspectableModel, resize: ResizePolicy = .fit) throws(VisionAttentionError) {
    let fit = resize == .fit
    try self.init(
      original, patchSize: model.patchSize, longerSide: fit ? model.preferredLongerSide : nil,
      maximumUpscale: model.maximumUpscale, maximumPatches: fit ? model.maximumPatches : nil)
  }

  /// Sizes `original` to a multiple of `patchSize`: with `maximumPatches`, to at most that
  /// many patches, aspect ratio kept, as `Siglip2ImageProcessor` does (torchvision bilinear);
  /// otherwise its longer side scaled to `longerSide` (nil: kept) but by at most
  /// `maximumUpscale`, bicubic, and centre-cropped. An image left smaller than a patch is
  /// enlarged by a whole factor, nearest neighbour (see `InputGeometry`).
  /// - Throws: `VisionAttentionError.imageTooSmall` for a sliver too thin to enlarge.
  public init(
    _ original: Image, patchSize: Int, longerSide: Int?, maximumUpscale: Double? = nil, maximumPatches: Int? = nil
  ) throws(VisionAttentionError) {
    if let patches = maximumPatches {
      // A NaFlex model sizes each image as its processor does (Siglip2ImageProcessor).
      geometry = try InputGeometry(originalWidth: original.width, originalHeight: original.height, patchSize: patchSize, maximumPatches: patches)
      let rgb = original.rgb()
      image = geometry.width == rgb.width && geometry.height == rgb.height ? rgb : rgb.torchvisionResized(width: geometry.width, height: geometry.height, filter: .bilinear)
      return
    }
    geometry = try InputGeometry(
      originalWidth: original.width, originalHeight: original.height, patchSize: patchSize,
      longerSide: longerSide, maximumUpscale: maximumUpscale)
    var prepared = original.rgb()
    if geometry.scale != 1 {
      // A too-small image is enlarged pixel for pixel (`InputGeometry.enlargement`).
      prepared = prepared.resized(
        width: geometry.resizedWidth, height: geometry.resizedHeight, filter: geometry.enlargement == nil ? .bicubic : .nearest)
    }
    image = prepared.cropped(x: geometry.cropX, y: geometry.cropY, width: geometry.width, height: geometry.height)
  }

  /// Decodes `path` (PNG or JPEG, by content) and sizes it for `model`.
  public init(contentsOfFile path: String, for model: any InspectableModel, input: InputSettings = InputSettings()) throws {
    try self.init(Image(contentsOfFile: path, options: input.decode).rgb(), for: model, resize: input.resize)
  }
}
