import VAImageIO
import VAInspection
import VARendering

/// The command's options, checked and resolved once for every image.
struct Settings {
  var map: MapKind?
  var layer: Int?
  var head: Int?
  var fuse: HeadFusion?
  var query: QueryPoint?
  var keep: Double
  var discardRatio: Double
  var colormap: Colormap
  var alpha: Float
  var upsample: Upsampling
  var resize: ResizePolicy
  var cnn: ConvStack
  var decode: DecodeOptions
  /// `--dump-attention`, or nil for the default (full below the limit, rows above).
  var dumpAttention: DumpAttention?
  /// Largest L·H·T² kept as full `[heads, T, T]` matrices; above it the forward runs tiled
  /// and keeps only rows (and queries and keys where a map or the page needs them).
  var fullAttentionLimit: Int

  init(_ command: VitAttend) throws {
    map = command.map
    layer = command.layer
    head = command.head
    fuse = command.fuse
    query = command.query
    keep = command.keep
    discardRatio = command.discardRatio
    colormap = command.colormap
    alpha = Float(command.alpha)
    upsample = command.upsample
    resize = command.resize
    cnn = try ConvStack(parsing: command.cnn)
    decode = DecodeOptions(applyExifOrientation: !command.noExif, acceptPartial: command.acceptPartial)
    dumpAttention = command.dumpAttention
    fullAttentionLimit = command.fullAttentionLimit
  }
}
