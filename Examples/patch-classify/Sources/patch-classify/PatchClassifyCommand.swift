import ArgumentParser
import Foundation
import VisionAttention

/// `patch-classify`: trains (`train`, the default subcommand, so `patch-classify --data X`
/// trains) or scores a saved model (`evaluate`).
struct PatchClassify: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "patch-classify",
    abstract: "Train a small vision transformer on the CPU and see what it learned to look at.",
    version: VisionAttentionInfo.version,
    subcommands: [Train.self, Evaluate.self],
    defaultSubcommand: Train.self)

  /// `patch-classify --help` on its own describes what the bare command does, training, with
  /// every training option, and then names the subcommands; ArgumentParser's root help would
  /// list the subcommands only. Everything else is ArgumentParser's.
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] else { return main(nil) }
    let training = helpMessage(for: Train.self).replacingOccurrences(of: "patch-classify train ", with: "patch-classify [train] ")
    print(
      training.trimmingCharacters(in: .newlines) + "\n\n" + """
        SUBCOMMANDS:
          train (default)         Train a model (the options above).
          evaluate                Score a saved model: accuracy, per-class accuracy, the
                                  confusion matrix and, with masks, the pointing game.

          See 'patch-classify help evaluate' for its options.

        """)
  }
}
