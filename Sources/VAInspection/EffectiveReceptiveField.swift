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
///
/// Complexity: O(L·r) time and O(r) memory for L layers and a field of r pixels (each layer
/// is a running sum, whatever its kernel), so a stack within `ConvStack`'s limits costs at
/// most `ConvStack.maximumLayers · ReceptiveField.maximumExtent` steps.
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
    // Gradient at output positions `first ..< first + count`, kept at mass 1 (each layer
    // multiplies the mass by its kernel size, which overflows Double after ~650 layers of
    // 3x3 convs). Two buffers sized for the whole field are swapped layer by layer, and the
    // loops run on raw pointers so debug builds stay fast too.
    var first = unit
    var count = 1
    // The span only grows going back, up to the theoretical field's size.
    let capacity = ReceptiveField.of(stack).size
    var values = [Double](repeating: 0, count: capacity), impulses = values, gradient = values
    values[0] = 1
    for layer in stack.layers.reversed() {
      let (s, d, k) = (layer.stride, layer.dilation, layer.kernel)
      first = first * s - layer.padding
      // A 1x1, stride-1 layer passes the gradient through unchanged.
      if s == 1 && k == 1 { continue }
      let span = (count - 1) * s + layer.dilatedKernel
      values.withUnsafeBufferPointer { g in
        impulses.withUnsafeMutableBufferPointer { a in
          gradient.withUnsafeMutableBufferPointer { c in
            // Impulses at o·s, then the comb Σ_{t<k} impulse[x − t·d] as a running sum along
            // each residue class mod d: c[x] = impulse[x] + c[x − d] − impulse[x − k·d].
            for x in 0..<span { a[x] = 0 }
            let scale = 1 / Double(k)
            for o in 0..<count { a[o * s] = g[o] * scale }
            for x in 0..<span {
              var v = a[x]
              if x >= d { v += c[x - d] }
              if x >= k * d { v -= a[x - k * d] }
              // The running sum's rounding can leave -1e-17 where the true value is 0.
              c[x] = max(v, 0)
            }
          }
        }
      }
      swap(&values, &gradient)
      count = span
    }
    values.removeSubrange(count...)
    let total = values.reduce(0, +)
    profile = values.map { $0 / total }
    offset = first
  }

  private init(profile: [Double], offset: Int) {
    self.profile = profile
    self.offset = offset
  }

  /// The same field for a unit `units` further along, `stride` input pixels apart per unit
  /// (`ReceptiveField.stride`): the profile does not depend on the unit, only its offset does,
  /// so this costs nothing where a new `init(stack:unit:)` walks every layer again.
  public func shifted(byUnits units: Int, stride: Int) -> EffectiveReceptiveField {
    EffectiveReceptiveField(profile: profile, offset: offset + units * stride)
  }

  /// The 2D field, `profile ⊗ profile`, row-major `[n, n]` with `n = profile.count`.
  public var field: [Double] { profile.flatMap { a in profile.map { a * $0 } } }

  /// Smallest radius `ρ` (in pixels, around the profile's centre of mass) of the disc that
  /// holds `fraction` of the 2D field's mass.
  ///
  /// The disc's mass is `Σ_x p[x] · (P[y_hi(x)] − P[y_lo(x)])` with prefix sums `P` of the
  /// profile, O(n) per radius; the smallest radius reaching `fraction` is found by
  /// bisection, so the cost is O(n log n) rather than sorting all n² cells.
  public func radius(holding fraction: Double) -> Double {
    let n = profile.count
    let centre = zip(profile.indices, profile).reduce(0.0) { $0 + Double($1.0) * $1.1 }
    var prefix = [Double](repeating: 0, count: n + 1)
    for i in 0..<n { prefix[i + 1] = prefix[i] + profile[i] }
    // Mass of the cells whose centres lie within `rho` of (centre, centre).
    func mass(within rho: Double) -> Double {
      profile.withUnsafeBufferPointer { p in
        prefix.withUnsafeBufferPointer { sums in
          var total = 0.0
          let low = max(0, Int((centre - rho).rounded(.up))), high = min(n - 1, Int((centre + rho).rounded(.down)))
          guard low <= high else { return 0 }
          for x in low...high where p[x] > 0 {
            let dx = Double(x) - centre
            let half = max(0, rho * rho - dx * dx).squareRoot()
            let y0 = max(0, Int((centre - half).rounded(.up))), y1 = min(n - 1, Int((centre + half).rounded(.down)))
            if y0 <= y1 { total += p[x] * (sums[y1 + 1] - sums[y0]) }
          }
          return total
        }
      }
    }
    let target = fraction - 1e-12
    var lo = 0.0, hi = Double(n) * 2.0.squareRoot()
    if mass(within: lo) >= target { return 0 }
    // The disc's mass is a step function of rho that jumps at cell distances; 60 halvings
    // bring the bracket below 1e-12 px, so `hi` is that distance to rounding.
    for _ in 0..<60 {
      let mid = (lo + hi) / 2
      if mass(within: mid) >= target { hi = mid } else { lo = mid }
    }
    return hi
  }
}
