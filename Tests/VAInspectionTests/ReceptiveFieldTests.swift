import Testing
@testable import VAInspection

struct ReceptiveFieldTests {
  /// Published values: VGG-16 pool5 and AlexNet (Araujo et al. 2019, Table 1); ResNet-50 in
  /// torchvision's layout (hand-derived) and TF-slim's resnet_v1_50 (google-research/
  /// receptive_field's table).
  @Test(arguments: [("vgg16", 212, 32, 90), ("alexnet", 195, 32, 66), ("resnet50", 427, 32, 213), ("resnet50-tfslim", 483, 32, 239)])
  func presetsMatchPublishedValues(name: String, size: Int, stride: Int, padding: Int) throws {
    let stack = try #require(ConvStack.preset(name))
    #expect(ReceptiveField.of(stack) == ReceptiveField(size: size, stride: stride, padding: padding))
  }

  /// Brute force: the input positions an output unit depends on, found by walking index
  /// sets back through the layers, against the formulas.
  @Test(arguments: ["vgg16", "alexnet", "resnet50", "resnet50-tfslim", "conv3p1,conv3p1,pool2s2,conv3d2p2", "conv5s2,pool3s3p1,conv3d3,conv1"])
  func formulasMatchImpulseResponse(spec: String) throws {
    let stack = try ConvStack(parsing: spec)
    let fields = ReceptiveField.perLayer(stack)
    for (depth, field) in fields.enumerated() {
      for unit in [0, 1, 5] {
        var positions: Set<Int> = [unit]
        for layer in stack.layers[0...depth].reversed() {
          var inputs: Set<Int> = []
          for o in positions {
            for t in 0..<layer.kernel { inputs.insert(o * layer.stride - layer.padding + t * layer.dilation) }
          }
          positions = inputs
        }
        #expect(positions.min() == field.start(ofUnit: unit), "\(spec) layer \(depth) unit \(unit)")
        #expect(positions.max()! - positions.min()! + 1 == field.size, "\(spec) layer \(depth) unit \(unit)")
      }
    }
  }

  @Test func specParsesDefaultsAndPresets() throws {
    let stack = try ConvStack(parsing: "conv3p1, conv3d2p2,pool2s2")
    #expect(stack.layers == [ConvLayerSpec(.conv, kernel: 3, padding: 1), ConvLayerSpec(.conv, kernel: 3, padding: 2, dilation: 2), ConvLayerSpec(.pool, kernel: 2, stride: 2)])
    #expect(stack.layers.map(\.description) == ["conv3p1", "conv3p2d2", "pool2s2"])
    #expect(try ConvStack(parsing: "vgg16").layers.count == 18)
  }

  @Test(arguments: [
    ("conv3p1,conv,pool2", "layer 2 'conv'"), ("conv3x", "unexpected 'x'"), ("conv3p1,,conv3", "layer 2"),
    ("pool2d2", "no dilation"), ("conv0", "at least 1"), ("conv3s0", "stride"), ("lenet", "unknown CNN 'lenet'"), ("conv3s2s2", "twice"),
  ])
  func malformedSpecsNameTheBadLayer(spec: String, mention: String) {
    #expect {
      try ConvStack(parsing: spec)
    } throws: { error in
      "\(error)".contains(mention)
    }
  }

  @Test func boxIsCentredOnTheNearestUnit() throws {
    let field = ReceptiveField.of(try #require(ConvStack.preset("vgg16")))
    let box = field.box(aroundPixel: 170, 113)
    #expect(box.width == 212 && box.height == 212)
    // Centre within half a stride of the point.
    #expect(abs(Double(box.x) + 105.5 - 170) <= 16 && abs(Double(box.y) + 105.5 - 113) <= 16)
  }

  /// Luo et al.'s observation: the effective field of a deep 3x3 stack is concentrated near
  /// the centre and much smaller than the theoretical field.
  @Test func effectiveFieldIsSmallerThanTheTheoreticalOne() throws {
    let stack = try ConvStack(parsing: Array(repeating: "conv3p1", count: 10).joined(separator: ","))
    let theoretical = ReceptiveField.of(stack)
    #expect(theoretical.size == 21)
    let effective = EffectiveReceptiveField(stack: stack)
    #expect(effective.profile.count == 21)
    #expect(abs(effective.profile.reduce(0, +) - 1) < 1e-12)
    let r50 = effective.radius(holding: 0.5), r95 = effective.radius(holding: 0.95)
    #expect(r50 < r95)
    let radius = Double(theoretical.size) / 2
    #expect(r95 < 0.65 * radius, "95% of the mass within \(r95) px of a \(theoretical.size) px field")
    #expect(r50 < 0.35 * radius, "50% of the mass within \(r50) px")
    // The effective field grows like sqrt(depth), the theoretical one like depth.
    let deep = try ConvStack(parsing: Array(repeating: "conv3p1", count: 40).joined(separator: ","))
    let deepRatio = EffectiveReceptiveField(stack: deep).radius(holding: 0.95) / (Double(ReceptiveField.of(deep).size) / 2)
    #expect(deepRatio < r95 / radius * 0.6, "40 layers: \(deepRatio), 10 layers: \(r95 / radius)")
    // Middle pixel carries the most gradient.
    #expect(effective.profile.firstIndex(of: effective.profile.max()!) == 10)
  }
}

import VATensorCore

/// Luo et al.'s measurement: backpropagation through a random-initialised CNN.
struct MeasuredReceptiveFieldTests {
  @Test func randomDeepStackConcentratesInsideItsTheoreticalField() throws {
    let stack = try ConvStack(parsing: Array(repeating: "conv3p1", count: 10).joined(separator: ","))
    var rng = SplitMix64(seed: 5)
    let measured = MeasuredReceptiveField(stack: stack, size: 32, channels: 4, images: 3, using: &rng)
    let theoretical = ReceptiveField.of(stack)  // 21 pixels
    // Exactly zero outside the theoretical box around the centre unit (16, 16): 6...26.
    for y in 0..<32 {
      for x in 0..<32 where !(6...26).contains(x) || !(6...26).contains(y) {
        #expect(measured.field[y * 32 + x] == 0, "gradient at (\(x), \(y)) outside the field")
      }
    }
    // Luo et al.: the effective field is a Gaussian-like blob filling a small part of the
    // theoretical one. As areas: the disc holding half the gradient mass covers under 20% of
    // the theoretical square, the one holding 95% under 60%.
    let r50 = measured.radius(holding: 0.5), r95 = measured.radius(holding: 0.95)
    let box = Double(theoretical.size * theoretical.size)
    #expect(Double.pi * r50 * r50 < 0.2 * box, "50% of the mass within \(r50) px of a \(theoretical.size) px field")
    #expect(Double.pi * r95 * r95 < 0.6 * box, "95% of the mass within \(r95) px")
  }
}
