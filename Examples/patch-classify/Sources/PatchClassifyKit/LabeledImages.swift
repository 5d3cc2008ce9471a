import Foundation
import VAImageIO
import Synchronization

/// A classification dataset held in memory: same-sized RGB images with integer labels.
///
/// 64×64 RGB images take 12 KiB each, so 100,000 of them fit in 1.2 GiB; larger folders
/// should be resized smaller or split.
public struct LabeledImages: Sendable {
  public var classNames: [String]
  public var images: [Image]
  public var labels: [Int]
  /// Per image, row-major object masks (ShapeWorld's own, or a folder's read with
  /// `ImageFolder.withMasks`): the pointing game's ground truth.
  public var masks: [[Bool]]?
  /// Where each image came from, for messages and figures (file paths or "shapeworld #i").
  public var sources: [String]

  public var count: Int { images.count }

  public init(classNames: [String], images: [Image], labels: [Int], masks: [[Bool]]? = nil, sources: [String]) {
    precondition(images.count == labels.count && images.count == sources.count, "\(images.count) images, \(labels.count) labels, \(sources.count) sources")
    precondition(masks == nil || masks!.count == images.count, "\(masks!.count) masks for \(images.count) images")
    self.classNames = classNames
    self.images = images
    self.labels = labels
    self.masks = masks
    self.sources = sources
  }

  /// ShapeWorld samples `range` of `world`, generated on all cores.
  public init(_ world: ShapeWorld, range: Range<Int>) {
    let samples = Self.generate(world, range)
    self.init(
      classNames: ShapeWorld.classes.map(\.rawValue), images: samples.map(\.image),
      labels: samples.map { ShapeWorld.classes.firstIndex(of: $0.shape)! }, masks: samples.map(\.mask),
      sources: range.map { "shapeworld #\($0)" })
  }

  /// Samples are independent, so chunks of the range render in parallel.
  static func generate(_ world: ShapeWorld, _ range: Range<Int>) -> [ShapeWorldSample] {
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, range.count / 64))
    let chunk = (range.count + workers - 1) / workers
    let parts = Mutex([[ShapeWorldSample]](repeating: [], count: workers))
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      let lower = range.lowerBound + w * chunk, upper = min(range.upperBound, lower + chunk)
      let samples = lower < upper ? (lower..<upper).map(world.sample) : []
      parts.withLock { $0[w] = samples }
    }
    return parts.withLock { $0.flatMap { $0 } }
  }

  /// The images at `indices`, in that order.
  public func subset(_ indices: [Int]) -> LabeledImages {
    LabeledImages(
      classNames: classNames, images: indices.map { images[$0] }, labels: indices.map { labels[$0] },
      masks: masks.map { m in indices.map { m[$0] } }, sources: indices.map { sources[$0] })
  }
}

/// Errors while reading an image folder.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
  case notAFolder(path: String)
  case noClasses(path: String)
  case emptyClass(path: String, className: String)
  case classesDiffer(train: [String], validation: [String])
  case unreadableImage(path: String, reason: String)
  case missingMask(path: String, image: String)
  case maskSizeDiffers(path: String, mask: [Int], image: String, imageSize: [Int])

  public var description: String {
    switch self {
    case .notAFolder(let path): "\(path): not a folder (expected root/<class>/*.png|jpg)"
    case .noClasses(let path): "\(path): no class folders with images (expected root/<class>/*.png|jpg)"
    case .emptyClass(let path, let name): "\(path): class folder '\(name)' holds no PNG or JPEG images"
    case .classesDiffer(let train, let validation): "train classes \(train) differ from validation classes \(validation)"
    // The image loader's messages already start with the path; say it once.
    case .unreadableImage(let path, let reason): reason.hasPrefix(path) ? reason : "\(path): \(reason)"
    case .missingMask(let path, let image): "\(path): no mask for \(image) (--masks DIR needs DIR/<the image's path under the data folder, as .png>)"
    case .maskSizeDiffers(let path, let mask, let image, let imageSize):
      "\(path): mask is \(mask[0])x\(mask[1]) but its image \(image) is \(imageSize[0])x\(imageSize[1])"
    }
  }
}

/// Reads the common `root/<class>/*.{png,jpg,jpeg}` layout (torchvision's `ImageFolder`):
/// classes are the sub-folders in sorted order, images are recognised by content, and each
/// is converted to RGB, its shorter side resized to `size` (bilinear, antialiased) and
/// centre-cropped to `size × size`.
public enum ImageFolder {
  /// The labelled images under `root`.
  public static func load(_ root: String, size: Int) throws(DatasetError) -> LabeledImages {
    let manager = FileManager.default
    var isFolder: ObjCBool = false
    guard manager.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else { throw .notAFolder(path: root) }
    let classNames = ((try? manager.contentsOfDirectory(atPath: root)) ?? []).filter { name in
      var isDir: ObjCBool = false
      return !name.hasPrefix(".") && manager.fileExists(atPath: join(root, name), isDirectory: &isDir) && isDir.boolValue
    }.sorted()
    guard !classNames.isEmpty else { throw .noClasses(path: root) }
    var images: [Image] = [], labels: [Int] = [], sources: [String] = []
    for (label, name) in classNames.enumerated() {
      let folder = join(root, name)
      let files = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).filter { file in
        let ext = (file as NSString).pathExtension.lowercased()
        return !file.hasPrefix(".") && ["png", "jpg", "jpeg"].contains(ext)
      }.sorted()
      guard !files.isEmpty else { throw .emptyClass(path: root, className: name) }
      for file in files {
        let path = join(folder, file)
        do {
          images.append(squareCrop(try Image(contentsOfFile: path).rgb(), size: size))
        } catch {
          throw .unreadableImage(path: path, reason: error.description)
        }
        labels.append(label)
        sources.append(path)
      }
    }
    return LabeledImages(classNames: classNames, images: images, labels: labels, sources: sources)
  }

  /// Training and validation sets: `root/train` and `root/val` (or `validation`) when both
  /// exist, otherwise every `validationEvery`-th image of each class (sorted by name) from
  /// `root` itself, so the split is deterministic and stratified.
  public static func loadSplit(_ root: String, size: Int, validationEvery: Int = 5) throws(DatasetError) -> (train: LabeledImages, validation: LabeledImages) {
    if let (train, validation) = splitFolders(root) {
      let (t, v) = (try load(train, size: size), try load(validation, size: size))
      guard t.classNames == v.classNames else { throw .classesDiffer(train: t.classNames, validation: v.classNames) }
      return (t, v)
    }
    let all = try load(root, size: size)
    var seen = [Int](repeating: 0, count: all.classNames.count)
    var trainIndices: [Int] = [], validationIndices: [Int] = []
    for (i, label) in all.labels.enumerated() {
      seen[label] += 1
      if seen[label] % validationEvery == 0 { validationIndices.append(i) } else { trainIndices.append(i) }
    }
    return (all.subset(trainIndices), all.subset(validationIndices))
  }

  /// `root/train` and `root/val` (or `root/validation`) when both exist.
  static func splitFolders(_ root: String) -> (train: String, validation: String)? {
    let manager = FileManager.default
    let train = join(root, "train")
    guard manager.fileExists(atPath: train),
      let validation = ["val", "validation"].map({ join(root, $0) }).first(where: { manager.fileExists(atPath: $0) })
    else { return nil }
    return (train, validation)
  }

  /// Shorter side to `size`, then the centre `size × size`.
  /// (`Image.centreSquare`, which `vit-attend --cnn-weights` feeds a trained CNN with too.)
  static func squareCrop(_ image: Image, size: Int) -> Image { image.centreSquare(side: size).image }

  static func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }
}
