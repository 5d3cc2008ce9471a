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
  }
}
