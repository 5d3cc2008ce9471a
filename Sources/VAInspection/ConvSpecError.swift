/// Errors in a user-typed CNN spec.
public enum ConvSpecError: Error, Equatable, CustomStringConvertible {
  /// The spec is empty or blank.
  case empty
  /// Layer `index` (0-based) does not follow the grammar; `reason` says which part.
  case badLayer(index: Int, text: String, reason: String)
  /// The spec is neither a preset name nor a list of `conv`/`pool` layers.
  case unknownPreset(String)
  /// The spec has more than `ConvStack.maximumLayers` layers.
  case tooManyLayers(count: Int, limit: Int)
  /// At layer `index`, the receptive field's size, stride or padding (`quantity`) exceeds
  /// `ReceptiveField.maximumExtent`.
  case fieldTooLarge(index: Int, text: String, quantity: String, limit: Int)

  /// The error as one line naming the layer and showing the grammar or the presets.
  public var description: String {
    switch self {
    case .empty:
      "CNN spec is empty: give a preset (\(ConvStack.presetNames.joined(separator: ", "))) or layers like conv3p1,pool2s2"
    case .badLayer(let index, let text, let reason):
      "CNN spec layer \(index + 1) '\(text)': \(reason); expected conv{k}[s{s}][p{p}][d{d}] or pool{k}[s{s}][p{p}]"
    case .unknownPreset(let name):
      "unknown CNN '\(name)': give a preset (\(ConvStack.presetNames.joined(separator: ", "))) or layers like conv3p1,pool2s2"
    case .tooManyLayers(let count, let limit):
      "CNN spec has \(count) layers; at most \(limit) are allowed"
    case .fieldTooLarge(let index, let text, let quantity, let limit):
      "CNN spec layer \(index + 1) '\(text)': the receptive field's \(quantity) exceeds \(limit) pixels, the limit"
    }
  }
}
