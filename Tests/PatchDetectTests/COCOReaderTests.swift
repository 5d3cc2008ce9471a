import Foundation
import PatchDetectKit
import Testing
import VAImageIO

/// A fresh folder under the temporary directory, removed by the caller.
func temporaryFolder(_ name: String = #function) throws -> String {
  let path = NSTemporaryDirectory() + "patch-detect-\(name.filter(\.isLetter))-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

@Suite struct COCOReaderTests {
  /// A folder with two good images (one under images/), a corrupt one, a missing one and one
  /// whose size disagrees with the file, and annotations that miss in every way the reader names.
  static func writeFolder(_ folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
    try Image(width: 40, height: 30, channels: 3, filledWith: 50).writePNG(to: folder + "/a.png")
    try Image(width: 20, height: 20, channels: 1, filledWith: 90).writePNG(to: folder + "/images/b.png")
    try Data("not a png at all".utf8).write(to: URL(fileURLWithPath: folder + "/corrupt.png"))
    try Image(width: 10, height: 10, channels: 3).writePNG(to: folder + "/small.png")
    let json = """
      {"images": [
         {"id": 1, "file_name": "a.png", "width": 40, "height": 30},
         {"id": 2, "file_name": "b.png"},
         {"id": 3, "file_name": "corrupt.png", "width": 8, "height": 8},
         {"id": 4, "file_name": "gone.png", "width": 8, "height": 8},
         {"id": 5, "file_name": "small.png", "width": 12, "height": 10}],
       "categories": [{"id": 7, "name": "circle"}, {"id": 3, "name": "star"}],
       "annotations": [
         {"id": 10, "image_id": 1, "category_id": 3, "bbox": [1, 2, 10, 5]},
         {"id": 11, "image_id": 1, "category_id": 7, "bbox": [30, 20, 10.5, 10]},
         {"id": 12, "image_id": 1, "category_id": 7, "bbox": [35, 25, 10, 10]},
         {"id": 13, "image_id": 2, "category_id": 7, "bbox": [0, 0, 20, 20], "iscrowd": true},
         {"id": 14, "image_id": 2, "category_id": 9, "bbox": [0, 0, 5, 5]},
         {"id": 15, "image_id": 99, "category_id": 7, "bbox": [0, 0, 5, 5]},
         {"id": 16, "image_id": 2, "category_id": 7, "bbox": [0, 0, 5]},
         {"id": 17, "image_id": 2, "category_id": 3, "bbox": [4, 4, 0, 3]},
         {"id": 18, "image_id": 2, "category_id": 3, "bbox": [2, 3, 4, 5], "iscrowd": 0}]}
      """
    try Data(json.utf8).write(to: URL(fileURLWithPath: folder + "/annotations.json"))
  }

  /// Which images and annotations are kept, and each one skipped with its reason.
  @Test func readsGoodAndReportsTheRest() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Self.writeFolder(folder)
    let data = try COCODataset(path: folder)
    let file = folder + "/annotations.json"
    #expect(data.classNames == ["circle", "star"])
    #expect(data.images.map(\.id) == [1, 2])
    // Image 1: the star (category 3 → class 1) and the circle 0.5 px past the edge (kept);
    // annotation 12 reaches 5 px past.
    #expect(data.images[0].sample.labels == [1, 0])
    #expect(data.images[0].sample.boxes == [PixelBox(minX: 1, minY: 2, maxX: 11, maxY: 7), PixelBox(minX: 30, minY: 20, maxX: 40.5, maxY: 30)])
    // Image 2 (found under images/, grey → RGB): the crowd box stays for evaluation only.
    #expect(data.images[1].sample.path == folder + "/images/b.png")
    #expect(data.images[1].sample.image.channels == 3)
    #expect(data.images[1].sample.labels == [1])
    #expect(data.images[1].objects.map(\.id) == [13, 18])
    #expect(data.images[1].objects.map(\.isCrowd) == [true, false])
    let expected: [DataIssue] = [
      DataIssue(path: file + ": annotations[4]", reason: "category_id 9 is not in `categories`"),
      DataIssue(path: file + ": annotations[5]", reason: "image_id 99 is not in `images`"),
      DataIssue(path: file + ": annotations[6]", reason: "bbox [0.0, 0.0, 5.0] is not 4 finite numbers [x, y, width, height]"),
      DataIssue(path: file + ": annotations[2]", reason: "bbox [35, 25, 10, 10] reaches outside the 40×30 image (image 1, \(folder)/a.png)"),
      DataIssue(path: file + ": annotations[7]", reason: "bbox [4, 4, 0, 3] is empty (width and height must be positive) (image 2, \(folder)/images/b.png)"),
      DataIssue(
        path: folder + "/corrupt.png",
        reason: "image 3 cannot be decoded: \(folder)/corrupt.png: not a PNG or JPEG image: starts with bytes 6E 6F 74 20 61 20 70 6E"),
      DataIssue(path: "gone.png", reason: "image 4 not found beside \(file) or under \(folder)/images/"),
      DataIssue(path: folder + "/small.png", reason: "image 5 is 10×10, the annotations say 12×10"),
    ]
    #expect(data.issues == expected)
  }

  /// Broken files stop the read with one error naming the file and the place.
  @Test(arguments: [
    ("{\"images\": [", "not valid JSON"),
    ("{\"images\": [], \"annotations\": []}", "the top level has no `categories`"),
    ("{\"images\": [{\"id\": \"one\", \"file_name\": \"a.png\"}], \"categories\": [{\"id\": 1, \"name\": \"x\"}]}", "images[0].id: expected an integer"),
    ("{\"images\": [], \"categories\": [{\"id\": 1, \"name\": \"x\"}], \"annotations\": [{\"image_id\": 1, \"category_id\": 1}]}", "annotations[0] has no `bbox`"),
    ("{\"images\": [], \"categories\": []}", "`categories` is empty"),
    ("{\"images\": [], \"categories\": [{\"id\": 1, \"name\": \"x\"}, {\"id\": 1, \"name\": \"y\"}]}", "category id 1 appears twice"),
    ("{\"images\": [{\"id\": 1, \"file_name\": \"a\"}, {\"id\": 1, \"file_name\": \"b\"}], \"categories\": [{\"id\": 1, \"name\": \"x\"}]}", "image id 1 appears twice"),
  ])
  func malformedFilesAreOneError(json: String, message: String) throws {
    do {
      _ = try COCOAnnotations(json: Data(json.utf8), path: "bad.json")
      Issue.record("no error for \(json)")
    } catch {
      #expect(error.description.hasPrefix("bad.json: "))
      #expect(error.description.contains(message), "\(error.description)")
    }
  }

  /// A missing file names itself.
  @Test func missingFile() {
    #expect(throws: COCOError.self) { try COCODataset(path: "/nonexistent/folder") }
  }

  /// The split is a function of the seed, holds out round(f·n), and keeps the file's order.
  @Test func validationSplitIsDeterministic() throws {
    let images = (0..<10).map { i in
      COCOImage(id: i, sample: DetectionSample(path: "\(i)", image: Image(width: 1, height: 1, channels: 3), boxes: [], labels: []), objects: [])
    }
    let data = COCODataset(path: "x.json", categories: [.init(id: 1, name: "a")], images: images, issues: [])
    let (train, validation) = try data.split(validationFraction: 0.3, seed: 4)
    let again = try data.split(validationFraction: 0.3, seed: 4)
    #expect(validation.images.map(\.id) == again.validation.images.map(\.id))
    #expect(validation.images.count == 3 && train.images.count == 7)
    #expect(Set(train.images.map(\.id) + validation.images.map(\.id)) == Set(0..<10))
    #expect(validation.images.map(\.id) == validation.images.map(\.id).sorted())
    let other = try data.split(validationFraction: 0.3, seed: 5)
    #expect(other.validation.images.map(\.id) != validation.images.map(\.id))
    #expect(throws: COCOError.self) { try data.split(validationFraction: 1, seed: 0) }
  }
}
