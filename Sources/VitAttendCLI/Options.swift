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
  /// Reads `--shard K/N` (`Shard(parsing:)`); nil, so ArgumentParser names the option, unless 1 ≤ K
  /// ≤ N.
  public init?(argument: String) { self.init(parsing: argument) }
}
