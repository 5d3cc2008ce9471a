import VALayers
import VATensorCore

/// SAGAN self-attention (Zhang et al. 2018) over the training-free `FeatureBank`: every
/// position of the CNN feature map attends to every other. Untrained, so the query and key
/// 1×1 convolutions are the identity on channel-standardised features, each position's
/// vector scaled to unit length, so the logits are cosine similarities over a temperature:
/// a position attends to positions whose filter responses look alike (raw dot products
/// would send every query to the strongest edges). Value and output projections do not change the map and are left at
/// their initial values; γ = 0 keeps the features unchanged.
public struct FeatureSAGAN: Sendable {
  /// The fixed feature extractor whose map is attended over.
  public let bank = FeatureBank()
  /// Softmax temperature on the correlation of standardised features.
  public var temperature: Float = 0.1

  /// The module at its default temperature, 0.1.
  public init() {}

  /// Attention over the feature map of `rgb` (`[3, H, W]` in 0…1, H and W multiples of 8):
  /// `weights` is `[N, N]` with `N = (H/8)·(W/8)` positions, row = query.
  public func attention(rgb: Tensor) -> (gridWidth: Int, gridHeight: Int, weights: Tensor) {
    withGradientsDisabled {
      let features = bank(rgb)
      let (c, h, w) = (features.shape[0], features.shape[1], features.shape[2])
      let standardised = Self.unitColumns(Self.standardised(features.reshaped([c, h * w]))).reshaped([c, h, w])
      var rng = SplitMix64(seed: 0)
      var module = SAGANAttention(channels: c, ratio: 1, valueForm: .full, using: &rng)
      // Identity projections scaled so fᵀg = cosine similarity / temperature.
      let scale = 1 / temperature.squareRoot()
      let identity = Tensor(shape: [c, c], scalars: (0..<(c * c)).map { $0 / c == $0 % c ? scale : 0 })
      module.query = Linear(weight: identity, bias: nil)
      module.key = Linear(weight: identity, bias: nil)
      return (w, h, module(standardised).attention)
    }
  }

  /// Each position (column of `[C, N]`) scaled to unit length; a zero column stays zero.
  static func unitColumns(_ x: Tensor) -> Tensor {
    let (c, n) = (x.shape[0], x.shape[1])
    var values = x.scalars
    for i in 0..<n {
      let norm = (0..<c).reduce(Float(0)) { $0 + values[$1 * n + i] * values[$1 * n + i] }.squareRoot()
      if norm > 1e-6 { for channel in 0..<c { values[channel * n + i] /= norm } }
    }
    return Tensor(shape: [c, n], scalars: values)
  }

  /// Each channel (row of `[C, N]`) shifted and scaled to zero mean and unit variance over
  /// the positions; a constant channel becomes zeros.
  static func standardised(_ x: Tensor) -> Tensor {
    let (c, n) = (x.shape[0], x.shape[1])
    var values = x.scalars
    for channel in 0..<c {
      let row = values[(channel * n)..<((channel + 1) * n)]
      let mean = row.reduce(0, +) / Float(n)
      let std = (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(n)).squareRoot()
      for i in 0..<n { values[channel * n + i] = std > 1e-6 ? (values[channel * n + i] - mean) / std : 0 }
    }
    return Tensor(shape: [c, n], scalars: values)
  }
}
