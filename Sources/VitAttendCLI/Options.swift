import ArgumentParser
import VisionAttention

extension MapKind: ExpressibleByArgument {}
extension ResizePolicy: ExpressibleByArgument {}
extension FigureStyle: ExpressibleByArgument {}
extension Colormap: ExpressibleByArgument {}
extension Upsampling: ExpressibleByArgument {}
extension HeadFusion: ExpressibleByArgument {}

extension QueryPoint: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}

/// What `--out-dir` holds: one PNG figure or one interactive HTML page per image.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
  case png
  case html
}
