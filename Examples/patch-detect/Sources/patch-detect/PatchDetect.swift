import ArgumentParser
import PatchDetectKit

/// `patch-detect`: trains a small DETR on a COCO-format folder on the CPU, and evaluates one.
struct PatchDetect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "patch-detect",
    abstract: "Train a small DETR on a COCO-format folder on the CPU, or evaluate one.",
    subcommands: [Train.self],
    defaultSubcommand: Train.self)
}
