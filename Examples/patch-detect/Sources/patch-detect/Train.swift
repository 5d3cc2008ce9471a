import ArgumentParser
import Foundation
import PatchDetectKit

extension PatchDetect {
  /// `patch-detect --data DIR --run-dir RUN`: trains, then writes the model, metrics and figures.
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a small DETR on a COCO-format folder.")

    @Option(help: "A COCO-format folder: annotations.json, images beside it or under images/.") var data: String?
    @Option(name: .customLong("run-dir"), help: "Where the model, metrics.json and figures go.") var runDirectory: String?

    func run() throws {
      throw ValidationError("training is not built yet")
    }
  }
}
