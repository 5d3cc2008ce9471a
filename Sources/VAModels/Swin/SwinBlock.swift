import VALayers
import VATensorCore

/// One Swin Transformer block: window attention (shifted on odd blocks) and an MLP, each in a
/// residual branch.
///
/// v1 (pre-norm): `x ← x + WMSA(LN₁(x))`, `x ← x + MLP(LN₂(x))`. v2 (res-post-norm, Liu et al.
/// 2022 §3.1): `x ← x + LN₁(WMSA(x))`, `x ← x + LN₂(MLP(x))`. The attention branch rolls,
/// pads and partitions the map as `SwinBlockGeometry` says, then reverses it.
///
/// Shapes: `x` is `[B, H·W, C]` row-major; the output too; the weights `[B·windows, heads, N, N]`.
/// Matches timm's `SwinTransformerBlock` / `SwinTransformerV2Block` and transformers'
/// `SwinLayer` / `Swinv2Layer` in inference (no drop path).
public struct SwinBlock: Sendable {
  /// The norm on the attention branch (before it in v1, after it in v2; timm's `norm1`).
  public var norm1: LayerNorm
  /// Window attention.
  public var attention: SwinWindowAttention
  /// The norm on the MLP branch (timm's `norm2`).
  public var norm2: LayerNorm
  /// The MLP, `C → ratio·C → C` with exact GELU.
  public var mlp: Mlp
  /// Whether the norms follow their branches (v2's res-post-norm).
  public let postNorm: Bool

  /// A block from its layers.
  public init(norm1: LayerNorm, attention: SwinWindowAttention, norm2: LayerNorm, mlp: Mlp, postNorm: Bool) {
    self.norm1 = norm1
    self.attention = attention
    self.norm2 = norm2
    self.mlp = mlp
    self.postNorm = postNorm
  }

  /// The attention branch on `[B, H·W, C]`: windows gathered from the rolled, padded map,
  /// attended, and scattered back. Returns the branch output and the weights.
  func windowAttention(_ x: Tensor, geometry g: SwinBlockGeometry) -> (Tensor, Tensor) {
    let (b, cells, c) = (x.shape[0], x.shape[1], x.shape[2])
    let sources = g.sourceCells()
    // Padding reads an appended zero row; every real cell appears in exactly one slot.
    var inverse = [Int](repeating: 0, count: cells)
    for (slot, cell) in sources.enumerated() { if let cell { inverse[cell] = slot } }
    let padded = concat([x, Tensor.zeros([b, 1, c])], axis: 1)
    let n = g.tokensPerWindow
    let windows = padded.gathered(indices: sources.map { $0 ?? cells }, axis: 1).reshaped([b * g.windowCount, n, c])
    let bias = attention.positionBias(windowHeight: g.windowHeight, windowWidth: g.windowWidth)
    let mask = g.shiftMask().map { Tensor(shape: [g.windowCount, n, n], scalars: $0) }
    let (out, weights) = attention(windows, bias: bias, mask: mask)
    return (out.reshaped([b, g.windowCount * n, c]).gathered(indices: inverse, axis: 1), weights)
  }

  /// The block on `[B, H·W, C]`; returns the new tokens and the attention `[B·windows, heads, N, N]`.
  public func callAsFunction(_ x: Tensor, geometry: SwinBlockGeometry) -> (output: Tensor, weights: Tensor) {
    if postNorm {
      let (a, weights) = windowAttention(x, geometry: geometry)
      let y = x + norm1(a)
      return (y + norm2(mlp(y)), weights)
    }
    let (a, weights) = windowAttention(norm1(x), geometry: geometry)
    let y = x + a
    return (y + mlp(norm2(y)), weights)
  }
}
