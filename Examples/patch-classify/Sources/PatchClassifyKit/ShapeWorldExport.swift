import Foundation
import VAImageIO

/// ShapeWorld as an image folder, so other tools (PyTorch's `ImageFolder`, this example's
/// `--data PATH`) train on exactly the same pictures.
public enum ShapeWorldExport {
  /// `folder/train/<class>/<index>.png` and `folder/val/<class>/<index>.png`, the same
  /// samples a `--data shapeworld` run with this seed uses; with `masks`, each object's mask
  /// as an 8-bit grey PNG (255 object, 0 background) at the same relative path under `masks`,
  /// the layout `--masks` reads.
  public static func write(to folder: String, imageSize: Int, seed: UInt64, train: Int, validation: Int, masks: String? = nil) throws {
    let world = ShapeWorld(imageSize: imageSize, seed: seed)
    let splits = [
      ("train", LabeledImages(world, range: 0..<train)),
      ("val", LabeledImages(world, range: ClassificationRun.validationStart..<(ClassificationRun.validationStart + validation))),
    ]
    for (split, data) in splits {
      for name in data.classNames {
        try FileManager.default.createDirectory(atPath: "\(folder)/\(split)/\(name)", withIntermediateDirectories: true)
        if let masks { try FileManager.default.createDirectory(atPath: "\(masks)/\(split)/\(name)", withIntermediateDirectories: true) }
      }
      for i in 0..<data.count {
        let relative = "\(split)/\(data.classNames[data.labels[i]])/\(String(format: "%06d", i)).png"
        try data.images[i].writePNG(to: "\(folder)/\(relative)")
        if let masks, let mask = data.masks?[i] {
          let image = data.images[i]
          try Image(width: image.width, height: image.height, channels: 1, pixels: mask.map { $0 ? 255 : 0 }).writePNG(to: "\(masks)/\(relative)")
        }
      }
    }
  }
}
