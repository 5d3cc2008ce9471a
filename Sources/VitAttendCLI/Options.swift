import ArgumentParser
import VisionAttention

extension MapKind: ExpressibleByArgument {}
extension ResizePolicy: ExpressibleByArgument {}
extension FigureStyle: ExpressibleByArgument {}
extension Colormap: ExpressibleByArgument {}
extension Upsampling: ExpressibleByArgument {}
extension HeadFusion: ExpressibleByArgument {}

extension OutputFormat: ExpressibleByArgument {}

extension DumpAttention: ExpressibleByArgument {}

extension Shard: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}
