import ArgumentParser
import Foundation
import PatchDetectKit

extension PatchDetect {
  /// `patch-detect evaluate --weights RUN/model --data DIR`: COCO AP of a DETR checkpoint on a COCO folder.
  struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "COCO AP of a DetrForObjectDetection folder on a COCO-format folder.")

    func run() throws { throw ValidationError("evaluate is not built yet") }
  }
}
