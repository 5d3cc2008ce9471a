/// Settings a caller gives for what a checkpoint's files may leave out.
public struct CheckpointOverrides: Sendable, Equatable {
  /// Attention heads (else the config's, else width / 64 with a note).
  public var headCount: Int?
  /// Input normalisation per channel (else the config's, else 0.5 / 0.5 with a note).
  public var mean: [Float]?
  /// Per-channel divisor after subtracting `mean` (else the config's, else 0.5 with a note).
  public var std: [Float]?

  /// Overrides; nil leaves a setting to the checkpoint's files.
  public init(headCount: Int? = nil, mean: [Float]? = nil, std: [Float]? = nil) {
    self.headCount = headCount
    self.mean = mean
    self.std = std
  }
}
