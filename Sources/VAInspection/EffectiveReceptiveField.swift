/// The effective receptive field of a conv/pool stack whose weights are all equal and which
/// has no non-linearity: the gradient of one output unit with respect to every input pixel.
///
/// Luo et al. 2016 ("Understanding the Effective Receptive Field in Deep Convolutional
/// Neural Networks", §2.2) show that for such a stack the gradient is the repeated
/// convolution of the layers' kernels, which tends to a Gaussian: its mass concentrates near
/// the centre and covers only a fraction of the theoretical field. Because uniform kernels
/// are separable, the 2D field is the outer product of one 1D profile with itself.
///
/// This is the closed-form, weight-free version of their measurement; a trained network's
/// field depends on its weights.
public struct EffectiveReceptiveField: Sendable {
  /// Gradient mass per input pixel along one axis, summing to 1, for input pixels
  /// `offset ..< offset + profile.count`.
  public let profile: [Double]
  /// Input index of `profile[0]`.
  public let offset: Int

  /// Backpropagates a unit impulse at output unit `unit` through `stack` along one axis.
  /// Each input position receives the sum of the gradients of the outputs whose window
  /// covers it (conv and average pooling alike, since the weights are uniform).
  public init(stack: ConvStack, unit: Int = 0) {
    // Gradient at output positions `first ..< first + values.count`.
    var first = unit
    var values: [Double] = [1]
    for layer in stack.layers.reversed() {
      let newFirst = first * layer.stride - layer.padding
      let span = (values.count - 1) * layer.stride + layer.dilatedKernel
      var gradient = [Double](repeating: 0, count: span)
      for (o, g) in values.enumerated() where g != 0 {
        for t in 0..<layer.kernel { gradient[o * layer.stride + t * layer.dilation] += g }
      }
      first = newFirst
      values = gradient
    }
    let total = values.reduce(0, +)
    profile = values.map { $0 / total }
    offset = first
  }

  /// The 2D field, `profile ⊗ profile`, row-major `[n, n]` with `n = profile.count`.
  public var field: [Double] { profile.flatMap { a in profile.map { a * $0 } } }

  /// Smallest radius `ρ` (in pixels, around the profile's centre of mass) of the disc that
  /// holds `fraction` of the 2D field's mass.
  public func radius(holding fraction: Double) -> Double {
    let n = profile.count
    let centre = zip(profile.indices, profile).reduce(0.0) { $0 + Double($1.0) * $1.1 }
    var cells: [(distance: Double, mass: Double)] = []
    cells.reserveCapacity(n * n)
    for y in 0..<n {
      for x in 0..<n {
        let d = ((Double(x) - centre) * (Double(x) - centre) + (Double(y) - centre) * (Double(y) - centre)).squareRoot()
        cells.append((d, profile[y] * profile[x]))
      }
    }
    cells.sort { $0.distance < $1.distance }
    var mass = 0.0
    for cell in cells {
      mass += cell.mass
      if mass >= fraction - 1e-12 { return cell.distance }
    }
    return cells.last?.distance ?? 0
  }
}
