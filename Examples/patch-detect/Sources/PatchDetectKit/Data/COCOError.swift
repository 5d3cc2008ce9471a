/// Errors that stop a COCO-format folder from being read at all. Problems confined to one
/// image or one annotation are not errors: they are reported as `DataIssue`s and skipped.
public enum COCOError: Error, Equatable, CustomStringConvertible {
  /// The file could not be read (missing, a folder, no permission).
  case unreadable(path: String, reason: String)
  /// The file is not JSON, or its JSON does not have COCO's structure; `reason` names the
  /// key path (`annotations[3].bbox`) and what was expected there.
  case malformed(path: String, reason: String)
  /// Well-formed, but unusable as a whole (no categories, duplicate ids).
  case invalid(path: String, reason: String)

  /// `path: what went wrong`.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
    case .malformed(let path, let reason): "\(path): not a COCO annotations file: \(reason)"
    case .invalid(let path, let reason): "\(path): \(reason)"
    }
  }
}

/// One image or annotation left out of a data set, and why: reported, never dropped silently.
public struct DataIssue: Error, Sendable, Equatable, CustomStringConvertible {
  /// The image file, or `annotations.json: annotations[i]` for an annotation.
  public var path: String
  /// Why it was skipped.
  public var reason: String

  /// An issue.
  public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }

  /// `path: reason`.
  public var description: String { "\(path): \(reason)" }
}
