import VATensorCore

/// The effective receptive field measured as Luo et al. 2016 do: the gradient of one output
/// unit of a CNN with respect to its input, by backpropagation.
public struct MeasuredReceptiveField: Sendable {
  /// `|∂ unit / ∂ input|` averaged over input channels and images, normalised to sum to 1,
  /// `[size, size]` row-major over the input.
  public let field: [Double]
  /// The side of the square input, in pixels.
  public let size: Int

  /// Builds `stack` as a CNN with random He-initialised weights (`channels` maps per conv,
  /// ReLU after each conv, max pooling for pools), feeds `images` random normal inputs of
  /// `size × size` (each with fresh weights), and backpropagates from the centre unit of
  /// the last layer, summed over its channels.
  public init<G: RandomNumberGenerator>(stack: ConvStack, size: Int, channels: Int = 8, images: Int = 4, using rng: inout G) {
    self.size = size
    var total = [Double](repeating: 0, count: size * size)
    for _ in 0..<images {
      let input = Tensor.randomNormal([1, 3, size, size], requiresGrad: true, using: &rng)
      var x = input
      var inputChannels = 3
      for layer in stack.layers {
        switch layer.kind {
        case .conv:
          let fanIn = Float(inputChannels * layer.kernel * layer.kernel)
          let weight = Tensor.randomNormal([channels, inputChannels, layer.kernel, layer.kernel], std: (2 / fanIn).squareRoot(), using: &rng)
          x = relu(conv2d(x, weight: weight, bias: nil, stride: (layer.stride, layer.stride), padding: (layer.padding, layer.padding), dilation: (layer.dilation, layer.dilation)))
          inputChannels = channels
        case .pool:
          x = maxPool2d(x, kernel: (layer.kernel, layer.kernel), stride: (layer.stride, layer.stride), padding: (layer.padding, layer.padding))
        }
      }
      let (h, w) = (x.shape[2], x.shape[3])
      precondition(h > 0 && w > 0, "input \(size) is too small for \(stack.name)")
      let unit = x.sliced(axis: 2, range: (h / 2)..<(h / 2 + 1)).sliced(axis: 3, range: (w / 2)..<(w / 2 + 1))
      unit.sum().backward()
      let gradient = input.grad!.scalars
      for c in 0..<3 {
        for i in 0..<(size * size) { total[i] += Double(abs(gradient[c * size * size + i])) }
      }
    }
    let sum = total.reduce(0, +)
    field = total.map { sum > 0 ? $0 / sum : 0 }
  }

  /// Smallest radius (pixels, around the field's centre of mass) of the disc holding
  /// `fraction` of the mass.
  public func radius(holding fraction: Double) -> Double {
    var cx = 0.0, cy = 0.0
    for (i, m) in field.enumerated() {
      cx += Double(i % size) * m
      cy += Double(i / size) * m
    }
    let cells = field.enumerated().map { (i, m) -> (Double, Double) in
      let dx = Double(i % size) - cx, dy = Double(i / size) - cy
      return ((dx * dx + dy * dy).squareRoot(), m)
    }.sorted { $0.0 < $1.0 }
    var mass = 0.0
    for (distance, m) in cells {
      mass += m
      if mass >= fraction - 1e-12 { return distance }
    }
    return cells.last?.0 ?? 0
  }
}
