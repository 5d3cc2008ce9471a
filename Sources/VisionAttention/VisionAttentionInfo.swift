/// Facts about this library.
public enum VisionAttentionInfo {
  /// The release, as `vit-attend --version` prints it (semantic versioning).
  public static let version = "0.2.0"
}
