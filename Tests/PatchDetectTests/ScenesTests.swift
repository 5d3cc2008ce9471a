import Foundation
import PatchDetectKit
import Testing
import VAImageIO

@Suite struct ScenesTests {
  /// Each box is exactly the extent of the pixels its object changed: every changed pixel
  /// (against the scene's background alone) lies in some box, and every box's four edges each
  /// hold a changed pixel.
  @Test(arguments: [UInt64(0), 7])
  func boxesAreTheDrawnExtents(seed: UInt64) {
    let scenes = ShapeScenes(imageSize: 64, seed: seed)
    var overlapping = 0
    var classes = Set<String>()
    for i in 0..<30 {
      let scene = scenes.scene(i)
      #expect(ShapeScenes.objectCount.contains(scene.objects.count))
      let background: [UInt8] = scenes.background(i).map { (value: Float) -> UInt8 in UInt8(max(0, min(255, value.rounded()))) }
      let s = 64
      let pixels = scene.image.pixels
      var changed = [Bool](repeating: false, count: s * s)
      for p in 0..<(s * s) { changed[p] = pixels[3 * p] != background[3 * p] || pixels[3 * p + 1] != background[3 * p + 1] || pixels[3 * p + 2] != background[3 * p + 2] }
      let boxes = scene.objects.map(\.box)
      for p in 0..<(s * s) where changed[p] {
        let (x, y) = (Float(p % s), Float(p / s))
        #expect(boxes.contains { x >= $0.minX && x < $0.maxX && y >= $0.minY && y < $0.maxY }, "scene \(i): pixel (\(x), \(y)) changed outside every box")
      }
      for box in boxes {
        let (x0, y0, x1, y1) = (Int(box.minX), Int(box.minY), Int(box.maxX) - 1, Int(box.maxY) - 1)
        #expect((y0...y1).contains { changed[$0 * s + x0] } && (y0...y1).contains { changed[$0 * s + x1] }, "scene \(i): \(box)")
        #expect((x0...x1).contains { changed[y0 * s + $0] } && (x0...x1).contains { changed[y1 * s + $0] }, "scene \(i): \(box)")
      }
      for a in boxes.indices {
        for b in boxes.indices where a < b {
          let (p, q) = (boxes[a], boxes[b])
          if min(p.maxX, q.maxX) > max(p.minX, q.minX) && min(p.maxY, q.maxY) > max(p.minY, q.minY) { overlapping += 1 }
        }
      }
      classes.formUnion(scene.objects.map(\.shape.rawValue))
    }
    #expect(overlapping > 0)
    #expect(classes.count == 6)
  }

  /// Scene i is a function of (seed, i).
  @Test func deterministic() {
    let a = ShapeScenes(imageSize: 48, seed: 3), b = ShapeScenes(imageSize: 48, seed: 3), c = ShapeScenes(imageSize: 48, seed: 4)
    #expect(a.scene(5).image == b.scene(5).image && a.scene(5).objects.map(\.box) == b.scene(5).objects.map(\.box))
    #expect(a.scene(5).image != c.scene(5).image)
  }

  /// Export, then read back with the COCO reader: the same pictures, boxes and classes, nothing skipped.
  @Test func exportRoundTrip() throws {
    let parent = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: parent) }
    let folder = parent + "/scenes"
    let scenes = ShapeScenes(imageSize: 64, seed: 11)
    try ShapeScenesExport.write(scenes, count: 8, to: folder)
    #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["scenes"])
    let data = try COCODataset(path: folder)
    #expect(data.issues.isEmpty)
    #expect(data.classNames == ["circle", "square", "triangle", "star", "cross", "ring"])
    #expect(data.images.count == 8)
    for (i, image) in data.images.enumerated() {
      let scene = scenes.scene(i)
      #expect(image.sample.image == scene.image)
      #expect(image.sample.boxes == scene.objects.map(\.box))
      #expect(image.sample.labels == scene.objects.map { ShapeScenes.classes.firstIndex(of: $0.shape)! })
    }
    // A second export into the same folder is refused and leaves it as it was.
    #expect(throws: ShapeScenesExport.Failure.notEmpty(path: folder)) { try ShapeScenesExport.write(scenes, count: 2, to: folder) }
    #expect(try COCODataset(path: folder).images.count == 8)
  }
}

/// The reader on another renderer's folder: Scripts/reference/coco_scenes_other_renderer.py
/// (Pillow; --count 4 --size 64 --seed 2), the kind of data the issue's done-when check uses.
@Suite struct ScenesOtherRendererTests {
  @Test func readsAnotherRenderersFolder() throws {
    let data = try COCODataset(path: AveragePrecisionTests.fixture("coco_other_renderer"))
    #expect(data.issues.isEmpty)
    #expect(data.images.count == 4)
    #expect(data.classNames == ShapeScenes.classes.map(\.rawValue))
    for image in data.images {
      #expect(!image.sample.boxes.isEmpty)
      for box in image.sample.boxes { #expect(box.minX >= 0 && box.minY >= 0 && box.maxX <= 64 && box.maxY <= 64 && box.area > 0) }
    }
    // Scored against itself through the in-memory path, the truth is a perfect detector.
    let perfect = DetectionEvaluation.run(on: data.images, classes: data.categories.count) { image in
      zip(image.sample.boxes, image.sample.labels).map { Detection(label: $1, score: 1, box: $0) }
    }
    #expect(abs((perfect.result.ap ?? 0) - 1) < 1e-12)
  }
}

/// The command: `patch-detect --export-scenes DIR` (the issue's spelling) and `export-scenes DIR` write the same folder.
@Suite struct ScenesCommandTests {
  @Test func exportScenesFlagAndSubcommandAgree() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let flag = try PatchDetectRunner.run(["--export-scenes", folder + "/a", "--count", "3", "--image-size", "48", "--seed", "5"])
    let subcommand = try PatchDetectRunner.run(["export-scenes", folder + "/b", "--count", "3", "--image-size", "48", "--seed", "5"])
    #expect(flag.status == 0 && subcommand.status == 0, "\(flag.error) \(subcommand.error)")
    for name in ["annotations.json", "images/000000.png", "images/000002.png"] {
      #expect(FileManager.default.contentsEqual(atPath: "\(folder)/a/\(name)", andPath: "\(folder)/b/\(name)"), "\(name)")
    }
    let scenes = ShapeScenes(imageSize: 48, seed: 5)
    let data = try COCODataset(path: folder + "/a")
    #expect(data.images.map(\.sample.image) == (0..<3).map { scenes.scene($0).image })
  }
}
