import VAImageIO

/// A figure and the raw tensors behind it, for `--dump`.
public struct RenderedFigure {
  /// The figure as drawn (RGB).
  public var image: Image
  /// Named tensors behind the figure (`rollout`, `distance`, `erf`, …) for the dump.
  public var tensors: [(name: String, shape: [Int], values: [Float])] = []

  /// A figure and the tensors a `--dump` writes beside it.
  public init(image: Image, tensors: [(name: String, shape: [Int], values: [Float])] = []) {
    self.image = image
    self.tensors = tensors
  }
}
