/// One layer of a CNN stack, as far as its receptive field is concerned.
public struct ConvLayerSpec: Sendable, Equatable, CustomStringConvertible {
  /// Whether the layer convolves or pools; both grow the receptive field alike.
  public enum Kind: String, Sendable { case conv, pool }

  /// Convolution or pooling (the spec's `conv` or `pool`).
  public var kind: Kind
  /// The kernel side `k` in input positions, before dilation.
  public var kernel: Int
  /// The step `s` between output positions.
  public var stride: Int
  /// Zeros added before the first input position (left / top).
  public var padding: Int
  /// The spacing `d` between kernel taps (1 for a dense kernel).
  public var dilation: Int

  /// A layer; a precondition checks that kernel, stride and dilation are positive and padding is not negative.
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
