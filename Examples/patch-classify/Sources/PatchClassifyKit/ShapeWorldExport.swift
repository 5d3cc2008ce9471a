import Foundation
import VAImageIO

/// ShapeWorld as an image folder, so other tools (PyTorch's `ImageFolder`, this example's
/// `--data PATH`) train on exactly the same pictures.
public enum ShapeWorldExport {
  /// `folder/train/<class>/<index>.png` and `folder/val/<class>/<index>.png`, the same
  /// samples a `--data shapeworld` run with this seed uses.
  public static func write(to folder: String, imageSize: Int, seed: UInt64, train: Int, validation: Int) throws {
    let world = ShapeWorld(imageSize: imageSize, seed: seed)
    let splits = [("train", LabeledImages(world, range: 0..<train)),
                  ("val", LabeledImages(world, range: ClassificationRun.validationStart..<(ClassificationRun.validationStart + validation)))]
    for (split, data) in splits {
      for name in data.classNames {
        try FileManager.default.createDirectory(atPath: "\(folder)/\(split)/\(name)", withIntermediateDirectories: true)
      }
      for i in 0..<data.count {
        try data.images[i].writePNG(to: "\(folder)/\(split)/\(data.classNames[data.labels[i]])/\(String(format: "%06d", i)).png")
      }
    }
  }
}
