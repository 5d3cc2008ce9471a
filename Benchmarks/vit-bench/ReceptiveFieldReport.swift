import ArgumentParser
import Foundation
import VAInspection
import VATensorCore

/// Theoretical and measured effective receptive fields of the CNN presets.
struct ReceptiveFieldReport: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "rf", abstract: "Receptive fields of the CNN presets: theoretical (Distill formulas) and effective (Luo et al., random init).")

  @Option(help: "Random networks (and inputs) averaged per preset.")
  var images = 2

  @Option(help: "Feature maps per conv layer of the random networks.")
  var channels = 8

  func run() throws {
    print(pad("preset", 18) + pad("size", 6) + pad("stride", 8) + pad("padding", 9) + pad("ERF r50", 9) + pad("ERF r95", 9) + "95% disc / field area")
    for name in ConvStack.presetNames {
      let stack = try ConvStack(parsing: name)
      let field = ReceptiveField.of(stack)
      // Big enough to hold the whole field around the centre unit, a multiple of the stride.
      let size = (field.size + field.stride - 1) / field.stride * field.stride + field.stride
      var rng = SplitMix64(seed: 1)
      let measured = MeasuredReceptiveField(stack: stack, size: size, channels: channels, images: images, using: &rng)
      let r50 = measured.radius(holding: 0.5), r95 = measured.radius(holding: 0.95)
      let area = Double.pi * r95 * r95 / Double(field.size * field.size)
      print(
        pad(name, 18) + pad("\(field.size)", 6) + pad("\(field.stride)", 8) + pad("\(field.padding)", 9)
          + pad(String(format: "%.1f", r50), 9) + pad(String(format: "%.1f", r95), 9) + String(format: "%.2f", area))
    }
  }
}
