import VATensorCore

/// Self-attention over a CNN feature map (SAGAN, Zhang et al. 2018): every position of a
/// feature map attends to every other, and the result is added back scaled by a learned γ.
///
/// Shapes: `x` is `[C, H, W]` or a batch `[B, C, H, W]`, the output the same shape; attention
/// weights are `[H·W, M]` (or `[B, H·W, M]`), one row per query position over the `M` key
/// positions (`M = H·W`, or `(H/2)·(W/2)` with pooled keys). Images of a batch never attend
/// to each other.
/// `f = W_f x` (queries), `g = W_g x` (keys), `h = W_h x` (values), all 1×1 convolutions;
/// `β = softmax(fᵀ g)` over keys; `o = W_o (h βᵀ)` (or `h βᵀ` without an output projection);
/// `y = γ · o + x`. γ starts at 0, so a fresh module is exactly the identity.
///
/// Layouts (checked against PyTorch by Scripts/reference/cnn_fixtures.py):
/// - BigGAN's `layers.Attention` is `.bigGAN` with `poolsKeys`: `theta` → `query`,
///   `phi` → `key`, `g` → `value`, `o` → `output` (1×1 conv weights `[out, in, 1, 1]` as
///   `[out, in]`), `gamma`; none has a bias.
/// - SAGAN's original `Self_Attn` (heykeetae/Self-Attention-GAN) is `.full` without pooling:
///   `query_conv`, `key_conv`, `value_conv` → `query`, `key`, `value`, with their biases
///   (give each `Linear` its bias); `gamma`.
/// Projections are created without biases; one set on a `Linear` is added per channel.
public struct SAGANAttention: ParameterContainer, Sendable {
  /// How values are projected.
  public enum ValueForm: String, Sendable, CaseIterable {
    /// BigGAN's: values C → C/2, then an output 1×1 conv C/2 → C.
    case bigGAN
    /// The paper's: values C → C/8 (like queries and keys), then v: C/8 → C.
    case paper
    /// The common single projection: values C → C, no output conv.
    case full
  }

  /// The query projection `W_f`, C → C/ratio (BigGAN's `theta`).
  public var query: Linear
  /// The key projection `W_g`, C → C/ratio (BigGAN's `phi`).
  public var key: Linear
  /// The value projection `W_h`: C → C/2 (`.bigGAN`), C/ratio (`.paper`) or C (`.full`).
  public var value: Linear
  /// The output projection `W_o`, value width → C, or nil for `.full`.
  public var output: Linear?
  /// The residual scale γ, `[1]`; starts at 0, so a fresh module is the identity.
  public var gamma: Tensor
  /// 2×2 max pooling of keys and values (BigGAN), a quarter of the key positions.
  public var poolsKeys: Bool
  /// Power-iteration state per projection when spectral normalisation is on.
  public var spectralNorms: [SpectralNorm]?

  /// A fresh module: projections from timm's truncated normal (std 0.02), no biases, γ = 0.
  ///
  /// - Parameters:
  ///   - channels: the feature map's channels `C`; divisible by `ratio` and by 2.
  ///   - ratio: the channel reduction of queries and keys (8 in SAGAN and BigGAN).
  ///   - valueForm: how values are projected.
  ///   - poolsKeys: 2×2 max pooling of keys and values (BigGAN).
  ///   - spectralNorm: normalise every projection by its spectral norm (Miyato et al. 2018).
  ///   - rng: the generator for the weights and the power-iteration vectors.
  public init<G: RandomNumberGenerator>(
    channels c: Int, ratio: Int = 8, valueForm: ValueForm = .bigGAN, poolsKeys: Bool = false,
    spectralNorm: Bool = false, using rng: inout G
  ) {
    precondition(c % ratio == 0 && c % 2 == 0, "channels \(c) must divide by the ratio \(ratio) and by 2")
    let reduced = c / ratio
    query = Linear(inputs: c, outputs: reduced, bias: false, using: &rng)
    key = Linear(inputs: c, outputs: reduced, bias: false, using: &rng)
    let valueWidth = valueForm == .bigGAN ? c / 2 : valueForm == .paper ? reduced : c
    value = Linear(inputs: c, outputs: valueWidth, bias: false, using: &rng)
    output = valueForm == .full ? nil : Linear(inputs: valueWidth, outputs: c, bias: false, using: &rng)
    gamma = Tensor.zeros([1])
    self.poolsKeys = poolsKeys
    spectralNorms =
      spectralNorm
      ? [query, key, value, output].compactMap { $0 }.map { SpectralNorm(rows: $0.outputs, columns: $0.inputs, using: &rng) }
      : nil
  }

  /// The module's output and its attention weights `[H·W, M]` (`[B, H·W, M]` for a batch).
  /// - Parameter training: advances spectral normalisation's power iteration.
  public mutating func callAsFunction(_ x: Tensor, training: Bool = false) -> (output: Tensor, attention: Tensor) {
    precondition(x.rank == 3 || x.rank == 4, "SAGAN attention needs [C, H, W] or [B, C, H, W], got \(x.shape)")
    // One code path for both ranks: the leading batch axis (if any) rides along as a matmul
    // batch axis, the projections broadcast over it, so a single image computes exactly
    // what it did before batches were supported.
    let batch = Array(x.shape.dropLast(3))
    let (c, h, w) = (x.shape[x.rank - 3], x.shape[x.rank - 2], x.shape[x.rank - 1])
    precondition(!poolsKeys || (h % 2 == 0 && w % 2 == 0), "pooled keys need an even feature map, got \(h)x\(w)")
    var weights = [query.weight, key.weight, value.weight] + (output.map { [$0.weight] } ?? [])
    if var norms = spectralNorms {
      for i in weights.indices { weights[i] = norms[i](weights[i], iterate: training) }
      spectralNorms = norms
    }
    let positions = x.reshaped(batch + [c, h * w])  // [(B,) C, N]
    // A 1×1 convolution: W·x, plus the bias per output channel when the projection has one
    // (SAGAN's original code uses nn.Conv2d's default bias=True; BigGAN's has none).
    func project(_ weight: Tensor, _ layer: Linear?, _ input: Tensor) -> Tensor {
      let product = matmul(weight, input)
      guard let bias = layer?.bias else { return product }
      return product + bias.reshaped([bias.count, 1])
    }
    let f = project(weights[0], query, positions)  // [(B,) C/r, N]
    var g = project(weights[1], key, positions)  // [(B,) C/r, N]
    var v = project(weights[2], value, positions)  // [(B,) C', N]
    if poolsKeys {
      func pooled(_ t: Tensor) -> Tensor {
        let channels = t.shape[t.rank - 2]
        return maxPool2d(t.reshaped([-1, channels, h, w]), kernel: (2, 2)).reshaped(batch + [channels, h * w / 4])
      }
      g = pooled(g)
      v = pooled(v)
    }
    let attention = softmax(matmul(f, g, transposeA: true), axis: -1)  // [(B,) N, M]
    var o = matmul(v, attention, transposeB: true)  // [(B,) C', N]
    if output != nil { o = project(weights[3], output, o) }  // [(B,) C, N]
    return ((o * gamma).reshaped(x.shape) + x, attention)
  }

  /// Parameters under this type's names: `query.*`, `key.*`, `value.*`, `output.*`, `gamma`
  /// (see the layouts above for BigGAN's and SAGAN's checkpoint names).
  public var namedParameters: [(name: String, tensor: Tensor)] {
    var out = prefixed("query", query) + prefixed("key", key) + prefixed("value", value)
    if let output { out += prefixed("output", output) }
    return out + [("gamma", gamma)]
  }
}
