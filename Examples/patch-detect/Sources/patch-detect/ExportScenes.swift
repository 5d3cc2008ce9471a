import ArgumentParser
import Foundation
import PatchDetectKit

extension PatchDetect {
  /// `patch-detect export-scenes DIR`: ShapeWorld scenes as a COCO folder, so the example runs with no data.
  struct ExportScenes: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "export-scenes",
      abstract: "Write ShapeWorld detection scenes as a COCO-format folder (annotations.json, images/).",
      discussion: """
        Each scene holds 1 to 5 of ShapeWorld's six shapes (circle, square, triangle, star, \
        cross, ring) of varied size, rotation and colour on a textured background, overlapping \
        at most so that each keeps half its pixels visible; each box is the extent of the pixels \
        its object shows. Scene i depends only on --seed and i: export held-out scenes with \
        another --seed or with --first past the training ones. DIR must not exist or be empty.
        """)

    @Argument(help: "The folder to create.") var folder: String
    @Option(help: "How many scenes.") var count = 3000
    @Option(name: .customLong("image-size"), help: "Scene side in pixels.") var imageSize = 128
    @Option(help: "Scenes are a function of the seed and their index.") var seed: UInt64 = 0
    @Option(help: "The index of the first scene.") var first = 0

    func validate() throws {
      guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be between 1 and 1000000, got \(count).") }
      guard (32...2048).contains(imageSize) else { throw ValidationError("--image-size must be between 32 and 2048, got \(imageSize).") }
      guard first >= 0 else { throw ValidationError("--first must be non-negative, got \(first).") }
    }

    func run() throws {
      try Self.export(to: folder, count: count, imageSize: imageSize, seed: seed, first: first)
    }

    /// Exports and says what was written; what `patch-detect --export-scenes DIR` calls.
    static func export(to folder: String, count: Int = 3000, imageSize: Int = 128, seed: UInt64 = 0, first: Int = 0) throws {
      try ShapeScenesExport.write(ShapeScenes(imageSize: imageSize, seed: seed), count: count, first: first, to: folder)
      print("wrote \(count) scenes (\(imageSize)×\(imageSize), seed \(seed)) to \(folder)/annotations.json and \(folder)/images/")
    }
  }
}
