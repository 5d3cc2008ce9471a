import VAImageIO
import VAInspection
import VAModels
import VARendering

/// How a figure is drawn: which map, which layer and heads, where the query is, and how it
/// looks. Every field starts at `vit-attend`'s default.
public struct FigureSettings: Sendable {
  /// What to draw; nil draws the default four-panel figure.
  public var map: MapKind?
  /// Layer for the `cls`, `query` and `mask` maps, from 0; nil takes the last.
  public var layer: Int?
  /// One head, from 0; nil takes the model's default selection unless `fuse` is set.
  public var head: Int?
  /// A fusion of all heads.
  public var fuse: HeadFusion?
  /// The query point in the input file's pixels; nil takes the image centre (and the class
  /// token's map in the default figure, when the model has one).
  public var query: QueryPoint?
  /// Attention mass kept by the `mask` map (DINO's keep-mass masks), in (0, 1].
  public var keep: Double = 0.6
  /// Fraction of the weakest weights dropped per layer by rollout, in [0, 1).
  public var discardRatio: Double = 0
  /// Colours of the heat maps (`--colormap`).
  public var colormap: Colormap = .inferno
  /// Heat-map opacity in [0, 1].
  public var alpha: Float = 0.6
  /// How patch-grid maps are enlarged to the image (`--upsample`).
  public var upsample: Upsampling = .bicubic
  /// The CNN whose receptive field is drawn beside the attention.
  public var cnn: ConvStack = ConvStack.preset("vgg16")!
  /// Full figures with titles, captions and colour bars, or the bare overlay.
  public var style: FigureStyle = .full
  /// What a dump keeps of the attention; nil: full below `fullAttentionLimit`, rows above.
  public var dumpAttention: DumpAttention?
  /// Largest L·H·T² kept as full `[heads, T, T]` matrices (256 Mi values, 1 GiB); above it
  /// the forward runs tiled and keeps only rows (and queries and keys where a map or the
  /// page needs them).
  public var fullAttentionLimit = 256 << 20
  /// What the gradient maps (`gradrollout`, `gradcam`, `attngrad`) explain: by default the
  /// top-1 class.
  public var target: AttributionTarget = .topClass
  /// A CNN `patch-classify` trained (`--cnn-weights`): the default figure and `--map gradcam`
  /// add its Grad-CAM for `target`'s class (its own top-1 without a class index).
  public var cnnWeights: ConvNetCheckpoint?
  /// Which patches `--map pca` colours (`--foreground`): all, or those whose first component
  /// reaches Otsu's threshold or a given one (the rest black, the PCA refitted on them).
  public var foreground: PCAForeground = .all
  /// A PCA fit `--map pca` projects with instead of fitting each image's own (`--pca-from`,
  /// or a folder run's shared fit).
  public var pcaFit: PatchPCA?
  /// Where `pcaFit` came from, for captions and errors (`--pca-from FILE`).
  public var pcaSource: String?
  /// `--map norms` marks tokens whose norm exceeds this many times the layer's median
  /// (`--norm-factor`).
  public var normFactor: Double = 4

  /// `vit-attend`'s defaults: the four-panel figure at the last layer, query at the centre.
  public init() {}
}

/// How much a figure shows around its maps.
public enum FigureStyle: String, CaseIterable, Sendable {
  /// Panels with a title, captions and colour bars.
  case full
  /// The overlay alone, at the model input's size: no title, caption, colour bar or marker.
  case bare
}

/// How an input image is read and sized before it meets the model.
public struct InputSettings: Sendable {
  /// How the image is sized for the model (`--resize`).
  public var resize: ResizePolicy = .fit
  /// How the file is decoded: EXIF orientation, partial JPEGs, size limits.
  public var decode: DecodeOptions = DecodeOptions()

  /// Settings with `vit-attend`'s defaults unless given.
  public init(resize: ResizePolicy = .fit, decode: DecodeOptions = DecodeOptions()) {
    self.resize = resize
    self.decode = decode
  }
}
