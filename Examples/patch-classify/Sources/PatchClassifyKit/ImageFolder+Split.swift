import Foundation

/// Which images of a folder an evaluation scores (`evaluate --split`).
public enum FolderSplit: String, CaseIterable, Sendable {
  /// The validation images a training run holds out (`ImageFolder.loadSplit`).
  case val
  /// Every image: `root/train` and `root/val` together, or the whole of `root`.
  case all
}

extension ImageFolder {
  /// The images of `split` under `root`, `size × size` as `load` makes them.
  /// - Throws: `DatasetError` naming the folder or file at fault.
  public static func load(_ root: String, size: Int, split: FolderSplit) throws(DatasetError) -> LabeledImages {
    switch split {
    case .val:
      return try loadSplit(root, size: size).validation
    case .all:
      guard let (train, validation) = splitFolders(root) else { return try load(root, size: size) }
      let (t, v) = (try load(train, size: size), try load(validation, size: size))
      guard t.classNames == v.classNames else { throw .classesDiffer(train: t.classNames, validation: v.classNames) }
      return LabeledImages(classNames: t.classNames, images: t.images + v.images, labels: t.labels + v.labels, sources: t.sources + v.sources)
    }
  }
}
