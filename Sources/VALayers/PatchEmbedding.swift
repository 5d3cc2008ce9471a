import VATensorCore

/// The ViT's patch embedding: patches projected to `D` channels by one matmul, equal to a
/// `Conv2d(3, D, kernel P, stride P)` (timm's `PatchEmbed.proj`), optionally followed by a norm
/// over each patch token (timm's `PatchEmbed.norm`, AIMv2's RMSNorm), before any position embedding.
public struct PatchEmbedding: ParameterContainer, Sendable {
  /// `[D, 3·P·P]`: the convolution weight `[D, 3, P, P]` reshaped.
  public var projection: Linear
  /// The patch side `P` in pixels (16 for ViT-B/16).
  public let patchSize: Int
  /// The norm on the projected tokens (timm's `embed_norm_layer`), or nil.
  public var norm: LayerNorm?

  /// An embedding from its projection, `[D, 3·P·P]`; a precondition checks that it takes `P × P` patches.
  public init(projection: Linear, patchSize: Int, norm: LayerNorm? = nil) {
    precondition(projection.inputs % (patchSize * patchSize) == 0, "projection \(projection.weight.shape) does not take \(patchSize)x\(patchSize) patches")
    self.projection = projection
    self.patchSize = patchSize
    self.norm = norm
  }

  /// `[3, H, W]` → `[N, D]`, or `[B, 3, H, W]` → `[B, N, D]`.
  public func callAsFunction(_ image: Tensor) -> Tensor {
    let tokens = projection(Patchifier.patchify(image, patchSize: patchSize))
    return norm.map { $0(tokens) } ?? tokens
  }

  /// Names follow timm's `patch_embed.proj` (a conv weight `[D, 3, P, P]` when saved) and `patch_embed.norm`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("proj", projection) + (norm.map { prefixed("norm", $0) } ?? [])
  }
}
