import Foundation
import VAImageIO
import Testing
@testable import PatchClassifyKit

/// `--masks`: a folder's masks read beside its images, brought to the image size as the
/// images are, and scored exactly as ShapeWorld's own masks are.
struct MaskFolderTests {
  static func scratch() -> String { NSTemporaryDirectory() + "mask-folder-" + UUID().uuidString }

  /// ShapeWorld exported as a folder with masks reads back as the very masks (and images) the
  /// in-memory data set has: the two pointing-game paths see the same ground truth.
  @Test func exportedMasksAreShapeWorldsOwn() throws {
    let (root, masks) = (Self.scratch(), Self.scratch())
    defer { for f in [root, masks] { try? FileManager.default.removeItem(atPath: f) } }
    try ShapeWorldExport.write(to: root, imageSize: 32, seed: 4, train: 6, validation: 12, masks: masks)
    let validation = try ImageFolder.withMasks(try ImageFolder.loadSplit(root, size: 32).validation, root: root, maskRoot: masks, size: 32)
    let world = ShapeWorld(imageSize: 32, seed: 4)
    #expect(validation.count == 12)
    for (i, source) in validation.sources.enumerated() {
      let index = try #require(Int((source as NSString).lastPathComponent.dropLast(4)))
      let sample = world.sample(ClassificationRun.validationStart + index)
      #expect(validation.images[i] == sample.image, "\(source)")
      #expect(validation.masks?[i] == sample.mask, "\(source)")
      #expect(sample.mask.contains(true) && sample.mask.contains(false))
    }
  }

  /// A 40×20 image whose left half is the object, brought to 10×10: shorter side to 10
  /// (20×10), centre crop x 5..<15, so the mask's columns 0..<5 are object and 5..<10 not.
  /// Grey, grey+alpha (object = opaque) and RGB (a blue of 1/255 counts) all read the same.
  @Test(arguments: [1, 2, 3])
  func masksAreResizedAndCroppedAsTheImage(channels: Int) throws {
    let folder = Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var pixels = [UInt8](repeating: 0, count: 40 * 20 * channels)
    for y in 0..<20 {
      for x in 0..<40 {
        let object = x < 20, p = (y * 40 + x) * channels
        switch channels {
        case 1: pixels[p] = object ? 200 : 0
        case 2: (pixels[p], pixels[p + 1]) = (255, object ? 255 : 0)
        default: pixels[p + 2] = object ? 1 : 0
        }
      }
    }
    let path = folder + "/m.png"
    try Image(width: 40, height: 20, channels: channels, pixels: pixels).writePNG(to: path)
    let mask = try ImageFolder.mask(atPath: path, image: "i.png", width: 40, height: 20, size: 10)
    let expected = (0..<100).map { $0 % 10 < 5 }
    #expect(mask == expected)
  }

  @Test func aMissingOrMisSizedMaskIsAnErrorNamingTheFile() throws {
    let root = try ImageFolderTests.makeFolder(classes: ["a", "b"], perClass: 5)  // 40×30 images
    let masks = Self.scratch()
    defer { for f in [root, masks] { try? FileManager.default.removeItem(atPath: f) } }
    let validation = try ImageFolder.loadSplit(root, size: 16).validation  // a/img4.png, b/img4.png
    for name in ["a", "b"] { try FileManager.default.createDirectory(atPath: "\(masks)/\(name)", withIntermediateDirectories: true) }
    try Image(width: 40, height: 30, channels: 1, filledWith: 255).writePNG(to: "\(masks)/a/img4.png")
    #expect(throws: DatasetError.missingMask(path: "\(masks)/b/img4.png", image: "\(root)/b/img4.png")) {
      try ImageFolder.withMasks(validation, root: root, maskRoot: masks, size: 16)
    }
    try Image(width: 30, height: 30, channels: 1).writePNG(to: "\(masks)/b/img4.png")
    do {
      _ = try ImageFolder.withMasks(validation, root: root + "/", maskRoot: masks, size: 16)
      Issue.record("a mask of another size must fail")
    } catch {
      #expect(error.description == "\(masks)/b/img4.png: mask is 30x30 but its image \(root)/b/img4.png is 40x30")
    }
    try Image(width: 40, height: 30, channels: 1).writePNG(to: "\(masks)/b/img4.png")
    let withMasks = try ImageFolder.withMasks(validation, root: root, maskRoot: masks, size: 16)
    #expect(withMasks.masks?.map { $0.filter { $0 }.count } == [256, 0])
  }

  @Test func evaluationSplitsAreTrainingsOrEverything() throws {
    let root = try ImageFolderTests.makeFolder(classes: ["a", "b"], perClass: 10)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let val = try ImageFolder.load(root, size: 8, split: .val), all = try ImageFolder.load(root, size: 8, split: .all)
    #expect(val.sources == (try ImageFolder.loadSplit(root, size: 8).validation.sources))
    #expect(all.count == 20 && all.classNames == ["a", "b"])
  }
}
