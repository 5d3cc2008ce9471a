import Foundation
import VAImageIO
import Testing
@testable import PatchClassifyKit

struct ImageFolderTests {
  /// root/<class>/*.png with `perClass` solid-colour images per class.
  static func makeFolder(classes: [String], perClass: Int) throws -> String {
    let root = NSTemporaryDirectory() + "image-folder-" + UUID().uuidString
    for (c, name) in classes.enumerated() {
      let folder = (root as NSString).appendingPathComponent(name)
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      for i in 0..<perClass {
        let image = Image(width: 40, height: 30, channels: 3, filledWith: UInt8(40 * c + i))
        try image.writePNG(to: (folder as NSString).appendingPathComponent("img\(i).png"))
      }
    }
    return root
  }

  @Test func loadsClassesInSortedOrderAndHoldsOutEveryFifth() throws {
    let root = try Self.makeFolder(classes: ["zebra", "apple"], perClass: 10)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let (train, validation) = try ImageFolder.loadSplit(root, size: 16)
    #expect(train.classNames == ["apple", "zebra"])
    #expect(train.count == 16 && validation.count == 4)
    #expect(validation.labels == [0, 0, 1, 1])
    #expect(train.images.allSatisfy { $0.width == 16 && $0.height == 16 && $0.channels == 3 })
    // img4 and img9 of "apple" (made second: solid 44 and 49) are the held-out ones.
    #expect(validation.images[0].pixels[0] == 44 && validation.images[1].pixels[0] == 49)
  }

  @Test func usesTrainAndValFoldersWhenPresent() throws {
    let root = NSTemporaryDirectory() + "image-folder-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: root) }
    let train = try Self.makeFolder(classes: ["a", "b"], perClass: 3), val = try Self.makeFolder(classes: ["a", "b"], perClass: 2)
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try FileManager.default.moveItem(atPath: train, toPath: root + "/train")
    try FileManager.default.moveItem(atPath: val, toPath: root + "/val")
    let (t, v) = try ImageFolder.loadSplit(root, size: 8)
    #expect(t.count == 6 && v.count == 4 && t.classNames == ["a", "b"])
  }

  @Test func badFoldersGetClearErrors() throws {
    #expect(throws: DatasetError.notAFolder(path: "/no/such/folder")) { try ImageFolder.load("/no/such/folder", size: 8) }
    let root = try Self.makeFolder(classes: ["a"], perClass: 1)
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
    #expect(throws: DatasetError.emptyClass(path: root, className: "empty")) { try ImageFolder.load(root, size: 8) }
    try FileManager.default.removeItem(atPath: root + "/empty")
    try Data("not a png".utf8).write(to: URL(fileURLWithPath: root + "/a/broken.png"))
    do {
      _ = try ImageFolder.load(root, size: 8)
      Issue.record("a corrupt image must fail the load")
    } catch {
      #expect(error.description.contains("broken.png"))
    }
  }
}
