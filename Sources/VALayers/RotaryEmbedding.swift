import VATensorCore

/// Rotary position embedding (RoPE, Su et al. 2021) applied to the queries and keys of the
/// patch tokens: `x′ = x · cos θ + rot(x) · sin θ`, in one of two channel layouts per head.
/// Interleaved (`rotateHalf == false`): pairs `(x₂ᵢ, x₂ᵢ₊₁)` turn together,
/// `rot(x)₂ᵢ = −x₂ᵢ₊₁`, `rot(x)₂ᵢ₊₁ = x₂ᵢ`. Rotate-half (`rotateHalf == true`): channel `i`
/// turns with `i + d/2`, `rot(x) = [−x_{d/2..<d}, x_{0..<d/2}]`.
///
/// Shapes: `cos` and `sin` are `[N, d]` (N patches, d the head dimension, each angle repeated
/// for its partner channel), or `[heads, N, d]` for angles of each head's own (timm's mixed
/// RoPE); the first `prefixTokens` tokens (class, registers) are not rotated.
/// Reference: timm's `apply_rot_embed_cat(…, half:)` as `EvaAttention` uses it (`half=True`
/// is `rope_rotate_half`, DINOv3's layout, also transformers' `rotate_half`).
public struct RotaryEmbedding: Sendable {
  /// cos θ per patch and head channel, `[N, d]` (or `[heads, N, d]`) row-major.
  public var cos: [Float]
  /// sin θ per patch and head channel, `[N, d]` (or `[heads, N, d]`) row-major.
  public var sin: [Float]
  /// The head width `d`; even, since channels turn in pairs.
  public let headDimension: Int
  /// Tokens before the patches (class, registers), left unrotated.
  public let prefixTokens: Int
  /// The rotate-half layout (channel `i` with `i + d/2`) instead of interleaved pairs.
  public let rotateHalf: Bool

  /// An embedding from its tables, both `[N, d]`; a precondition checks that they fit `d`.
  public init(cos: [Float], sin: [Float], headDimension: Int, prefixTokens: Int, rotateHalf: Bool = false) {
    precondition(
      cos.count == sin.count && cos.count % headDimension == 0 && headDimension % 2 == 0,
      "rotary tables of \(cos.count) and \(sin.count) values do not fit head dimension \(headDimension)")
    self.cos = cos
    self.sin = sin
    self.headDimension = headDimension
    self.prefixTokens = prefixTokens
    self.rotateHalf = rotateHalf
  }

  /// Channel `i`'s partner within its head, as an offset (`rot(x)ᵢ = ±x[i + offset]`), and
  /// whether `rot` negates it.
  @inline(__always) func partner(_ i: Int) -> (offset: Int, negated: Bool) {
    if rotateHalf { return i < headDimension / 2 ? (headDimension / 2, true) : (-headDimension / 2, false) }
    return i % 2 == 0 ? (1, true) : (-1, false)
  }

  /// Rotates the q and k parts of a fused projection `[B, T, 3C]` (q, k, v, each head-major);
  /// v is left as it is. With gradients recorded it is composed of differentiable ops.
  public func apply(toQKV qkv: Tensor, heads: Int) -> Tensor {
    precondition(qkv.rank == 3, "rotary embedding needs qkv [B, T, 3C], got \(qkv.shape)")
    let (b, t, c3) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
    let c = c3 / 3, d = headDimension
    // Tables `[heads, N, d]` give each head its own angles (timm's mixed RoPE); `[N, d]` are shared.
    let perHead = heads > 1 && cos.count == heads * (t - prefixTokens) * d
    let n = perHead ? cos.count / (heads * d) : cos.count / d
    precondition(c == heads * d && t == prefixTokens + n, "rotary tables for \(n) patches and \(d)-wide heads do not fit qkv \(qkv.shape) with \(heads) heads")
    // Per (token, column) factors: identity on prefix tokens and on v.
    var cosine = [Float](repeating: 1, count: t * c3), sine = [Float](repeating: 0, count: t * c3)
    for token in prefixTokens..<t {
      for part in 0..<2 {
        for h in 0..<heads {
          let row = ((perHead ? h * n : 0) + token - prefixTokens) * d
          for i in 0..<d {
            let column = token * c3 + part * c + h * d + i
            cosine[column] = cos[row + i]
            // rot() puts −x₂ᵢ₊₁ at 2i and x₂ᵢ at 2i+1 (or −x_{i+d/2} at i and x_i at
            // i+d/2), so the sine carries that sign.
            sine[column] = partner(i).negated ? -sin[row + i] : sin[row + i]
          }
        }
      }
    }
    if !(qkv.requiresGrad && GradientMode.isEnabled) {
      let x = qkv.scalars
      var out = x
      // Every column of q, k and v is a head channel `j % d`; its partner is a fixed offset away.
      let offsets = (0..<c3).map { partner($0 % d).offset }
      for bi in 0..<b {
        let base = bi * t * c3
        for token in 0..<t {
          let row = token * c3
          for column in 0..<c3 {
            let j = row + column
            out[base + j] = x[base + j] * cosine[j] + x[base + j + offsets[column]] * sine[j]
          }
        }
      }
      return Tensor(shape: qkv.shape, scalars: out)
    }
    // Composed: swap each channel with its partner, then scale by the signed sine.
    let swapped: Tensor
    if rotateHalf {
      // Per head, the halves (x_{0..<d/2}, x_{d/2..<d}) -> (x_{d/2..<d}, x_{0..<d/2}).
      let halves = qkv.reshaped([b, t, c3 / d, 2, d / 2]).chunked(2, axis: 3)
      swapped = concat([halves[1], halves[0]], axis: 3).reshaped(qkv.shape)
    } else {
      // Each pair (x₀, x₁) -> (x₁, x₀).
      let pairs = qkv.reshaped([b, t, c3 / 2, 2]).chunked(2, axis: 3)
      swapped = concat([pairs[1], pairs[0]], axis: 3).reshaped(qkv.shape)
    }
    return qkv * Tensor(shape: [t, c3], scalars: cosine) + swapped * Tensor(shape: [t, c3], scalars: sine)
  }
}
