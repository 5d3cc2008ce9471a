import Testing
@testable import VAInspection

/// The caps that bound receptive-field work, and the O(L·r) effective field against the
/// direct O(L·r·k) convolution it replaced.
struct ReceptiveFieldLimitsTests {
  /// Direct backpropagation of a unit impulse: every output spreads its gradient over its
  /// window, in Double, then normalised to mass 1.
  private static func directProfile(_ stack: ConvStack, unit: Int) -> (profile: [Double], offset: Int) {
    var first = unit
    var values: [Double] = [1]
    for layer in stack.layers.reversed() {
      var gradient = [Double](repeating: 0, count: (values.count - 1) * layer.stride + layer.dilatedKernel)
      for (o, g) in values.enumerated() {
        for t in 0..<layer.kernel { gradient[o * layer.stride + t * layer.dilation] += g }
      }
      first = first * layer.stride - layer.padding
      values = gradient
    }
    let total = values.reduce(0, +)
    return (values.map { $0 / total }, first)
  }

  /// Smallest radius holding `fraction` of the 2D mass, by sorting every cell.
  private static func sortedRadius(_ profile: [Double], holding fraction: Double) -> Double {
    let centre = zip(profile.indices, profile).reduce(0.0) { $0 + Double($1.0) * $1.1 }
    var cells: [(Double, Double)] = []
    for y in profile.indices {
      for x in profile.indices {
        let (dx, dy) = (Double(x) - centre, Double(y) - centre)
        cells.append(((dx * dx + dy * dy).squareRoot(), profile[x] * profile[y]))
      }
    }
    cells.sort { $0.0 < $1.0 }
    var mass = 0.0
    for (distance, m) in cells {
      mass += m
      if mass >= fraction - 1e-12 { return distance }
    }
    return cells.last!.0
  }

  @Test(arguments: ["conv3p1,conv3p1,pool2s2,conv3d2p2", "conv5s2,pool3s3p1,conv3d3,conv1", "alexnet", "conv7s2p3,pool3s2p1,conv3d4,conv2s3", "vgg16"])
  func runningSumsMatchTheDirectConvolution(spec: String) throws {
    let stack = try ConvStack(parsing: spec)
    for unit in [0, 3] {
      let fast = EffectiveReceptiveField(stack: stack, unit: unit), slow = Self.directProfile(stack, unit: unit)
      #expect(fast.offset == slow.offset && fast.profile.count == slow.profile.count, "\(spec) unit \(unit)")
      let worst = zip(fast.profile, slow.profile).map { abs($0 - $1) }.max()!
      // Mass 1 spread over r pixels; running sums round at about 1e-16 of the peak.
      #expect(worst < 1e-12, "\(spec) unit \(unit): largest difference \(worst)")
      let shifted = EffectiveReceptiveField(stack: stack, unit: 0).shifted(byUnits: unit, stride: ReceptiveField.of(stack).stride)
      #expect(shifted.offset == fast.offset && shifted.profile == EffectiveReceptiveField(stack: stack, unit: 0).profile)
    }
  }

  @Test(arguments: ["conv3p1,conv3p1,pool2s2,conv3d2p2", "alexnet", "conv5,conv5,conv5", "conv9d3"])
  func bisectedRadiusMatchesSortingEveryCell(spec: String) throws {
    let profile = EffectiveReceptiveField(stack: try ConvStack(parsing: spec)).profile
    let field = EffectiveReceptiveField(stack: try ConvStack(parsing: spec))
    for fraction in [0.1, 0.5, 0.95, 1] {
      let expected = Self.sortedRadius(profile, holding: fraction)
      #expect(abs(field.radius(holding: fraction) - expected) < 1e-6, "\(spec) \(fraction): \(field.radius(holding: fraction)) vs \(expected)")
    }
  }

  /// Deep stacks used to overflow Double (3^1000) and yield NaN.
  @Test func aThousandLayersStayFinite() throws {
    let stack = try ConvStack(parsing: Array(repeating: "conv3p1", count: 1000).joined(separator: ","))
    let field = EffectiveReceptiveField(stack: stack)
    #expect(field.profile.count == 2001 && field.profile.allSatisfy(\.isFinite))
    #expect(abs(field.profile.reduce(0, +) - 1) < 1e-9)
    // A sum of 1000 uniform 3-taps: variance 1000·2/3, so 95% of the 2D mass lies within
    // about 2.45 σ ≈ 63 pixels of the centre.
    #expect(abs(field.radius(holding: 0.95) - 2.448 * (2000.0 / 3).squareRoot()) < 2)
  }

  @Test func checkedArithmeticNamesTheCap() {
    let stack = ConvStack(name: "huge", layers: Array(repeating: ConvLayerSpec(.conv, kernel: 1, stride: 10_000), count: 6))
    #expect(throws: ConvSpecError.fieldTooLarge(index: 1, text: "conv1s10000", quantity: "stride", limit: 100_000)) {
      try ReceptiveField.checkedPerLayer(stack)
    }
    #expect(throws: ConvSpecError.tooManyLayers(count: 1001, limit: 1000)) {
      try ConvStack(parsing: Array(repeating: "conv1", count: 1001).joined(separator: ","))
    }
  }
}
