/// One layer of a CNN stack, as far as its receptive field is concerned.
public struct ConvLayerSpec: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable { case conv, pool }

  public var kind: Kind
  public var kernel: Int
  public var stride: Int
  /// Zeros added before the first input position (left / top).
  public var padding: Int
  public var dilation: Int

  public init(_ kind: Kind, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
    precondition(kernel > 0 && stride > 0 && padding >= 0 && dilation > 0, "invalid layer k\(kernel) s\(stride) p\(padding) d\(dilation)")
    self.kind = kind
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
  }

  /// The kernel's extent with dilation, `k′ = d(k − 1) + 1`.
  public var dilatedKernel: Int { dilation * (kernel - 1) + 1 }

  /// The spec grammar: `conv3s2p1d2`, `pool2s2`; defaults left out.
  public var description: String {
    var text = "\(kind.rawValue)\(kernel)"
    if stride != 1 { text += "s\(stride)" }
    if padding != 0 { text += "p\(padding)" }
    if dilation != 1 { text += "d\(dilation)" }
    return text
  }
}

/// Errors in a user-typed CNN spec.
public enum ConvSpecError: Error, Equatable, CustomStringConvertible {
  case empty
  case badLayer(index: Int, text: String, reason: String)
  case unknownPreset(String)
  case tooManyLayers(count: Int, limit: Int)
  case fieldTooLarge(index: Int, text: String, quantity: String, limit: Int)

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

extension ConvLayerSpec {
  /// Parses one layer of the spec grammar, e.g. `conv3d2p2` or `pool2s2`.
  static func parse(_ text: Substring, index: Int) throws(ConvSpecError) -> ConvLayerSpec {
    func fail(_ reason: String) -> ConvSpecError { .badLayer(index: index, text: String(text), reason: reason) }
    let kind: Kind
    var rest: Substring
    if text.hasPrefix("conv") {
      kind = .conv
      rest = text.dropFirst(4)
    } else if text.hasPrefix("pool") {
      kind = .pool
      rest = text.dropFirst(4)
    } else {
      throw fail("must start with conv or pool")
    }
    func number() throws(ConvSpecError) -> Int {
      let digits = rest.prefix { $0.isASCII && $0.isNumber }
      guard !digits.isEmpty, let value = Int(digits), value <= 10_000 else { throw fail("expected a number after '\(text.dropLast(rest.count))'") }
      rest = rest.dropFirst(digits.count)
      return value
    }
    let kernel = try number()
    guard kernel > 0 else { throw fail("kernel size must be at least 1") }
    var fields: [Character: Int] = [:]
    while let key = rest.first {
      guard "spd".contains(key) else { throw fail("unexpected '\(key)'") }
      guard fields[key] == nil else { throw fail("'\(key)' given twice") }
      guard !(kind == .pool && key == "d") else { throw fail("pools take no dilation") }
      rest = rest.dropFirst()
      fields[key] = try number()
    }
    let stride = fields["s"] ?? 1, padding = fields["p"] ?? 0, dilation = fields["d"] ?? 1
    guard stride > 0 else { throw fail("stride must be at least 1") }
    guard dilation > 0 else { throw fail("dilation must be at least 1") }
    return ConvLayerSpec(kind, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
  }
}
