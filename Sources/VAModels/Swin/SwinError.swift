/// Errors running a Swin Transformer on an input it cannot reproduce its library on.
public enum SwinError: Error, Equatable, CustomStringConvertible {
  /// The input is not `[3, H, W]` or is smaller than one patch.
  case badInput(shape: [Int], reason: String)
  /// A transformers v1 block's window, clamped to a small feature map, differs from the window
  /// its relative position table was trained for (transformers indexes the table for the
  /// configured window only, so it cannot run such an input either).
  case windowNeedsResizedTable(block: Int, window: [Int], trained: [Int])

  /// The error as one line naming the values seen.
  public var description: String {
    switch self {
    case .badInput(let shape, let reason): "Swin input \(shape): \(reason)"
    case .windowNeedsResizedTable(let block, let window, let trained):
      "Swin block \(block): the feature map clamps the window to \(window[0])x\(window[1]) but its relative position table is for \(trained[0])x\(trained[1]), which transformers cannot run; use a larger image"
    }
  }
}
