import Foundation
import VAImageIO
import Testing
@testable import PatchClassifyKit

struct ShapeWorldTests {
  @Test func samplesAreDeterministicAndDependOnTheSeed() {
    let world = ShapeWorld(imageSize: 32, seed: 7)
    #expect(world.sample(5).image == world.sample(5).image)
    #expect(world.sample(5).image != ShapeWorld(imageSize: 32, seed: 8).sample(5).image)
    #expect(world.sample(5).image != world.sample(11).image)
  }

  @Test func classesCycleAndMasksCoverTheObject() {
    let world = ShapeWorld(imageSize: 64, seed: 1)
    for i in 0..<24 {
      let sample = world.sample(i)
      #expect(sample.shape == ShapeWorld.classes[i % 6])
      let covered = sample.mask.filter { $0 }.count
      // Radius 9 to 19 pixels: even a thin ring or a small triangle covers over 60 pixels,
      // and no object covers more than a third of the image.
      #expect(covered > 60 && covered < 64 * 64 / 3, "sample \(i) (\(sample.shape)) covers \(covered) pixels")
    }
  }

  @Test func shapesHaveTheirDefiningGeometry() {
    #expect(ShapeKind.ring.contains(0.8, 0) && !ShapeKind.ring.contains(0, 0))
    #expect(ShapeKind.circle.contains(0, 0) && !ShapeKind.circle.contains(0.75, 0.75))
    #expect(ShapeKind.square.contains(0.75, 0.75) && !ShapeKind.square.contains(0.9, 0))
    #expect(ShapeKind.cross.contains(0.9, 0) && !ShapeKind.cross.contains(0.6, 0.6))
    #expect(ShapeKind.star.contains(0, 0.9) && !ShapeKind.star.contains(0.5, 0.6))
    #expect(ShapeKind.triangle.contains(0, 0.9) && !ShapeKind.triangle.contains(0, -0.7))
  }

  @Test func thePointingGameScoresTheMapPeak() {
    // A 2x2 grid over a 4x4 image whose object fills the top-left quarter.
    var mask = [Bool](repeating: false, count: 16)
    for y in 0..<2 { for x in 0..<2 { mask[y * 4 + x] = true } }
    #expect(Evaluation.pointsAtObject([1, 0, 0, 0], gridWidth: 2, gridHeight: 2, mask: mask, width: 4, height: 4))
    #expect(!Evaluation.pointsAtObject([0, 0, 0, 1], gridWidth: 2, gridHeight: 2, mask: mask, width: 4, height: 4))
  }

  @Test func reportsCountConfusions() {
    let data = LabeledImages(
      classNames: ["a", "b"], images: Array(repeating: Image(width: 1, height: 1, channels: 3), count: 4),
      labels: [0, 0, 1, 1], sources: ["1", "2", "3", "4"])
    let report = Evaluation.scores([0, 1, 1, 1], data)
    #expect(report.confusion == [[1, 1], [0, 2]])
    #expect(report.accuracy == 0.75 && report.perClassAccuracy == [0.5, 1])
  }
}

/// The sample images in images/ are ShapeWorld's own validation samples: regenerating them
/// gives the same bytes, so the generator cannot drift from the data the shipped model and
/// the README's figures were made with.
struct ShapeWorldPinTests {
  @Test func committedSamplesAreRegeneratedExactly() throws {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let world = ShapeWorld(imageSize: 64, seed: 0)
    // Validation index i has class (10⁹ + i) % 6: the first of each class is among i < 6.
    for i in 0..<6 {
      let sample = world.sample(ClassificationRun.validationStart + i)
      let path = repository.appendingPathComponent("images/shapeworld-\(sample.shape.rawValue).png").path
      #expect(try Image(contentsOfFile: path) == sample.image, "images/shapeworld-\(sample.shape.rawValue).png")
    }
  }
}
