import VALayers
import VATensorCore

/// Multi-head attention pooling ("MAP", Zhai et al. 2022; SigLIP's head): a learned query
/// attends to every token, and the attended vector goes through a residual MLP.
///
/// Shapes: tokens `[B, T, D]` in; pooled `[B, D]` out; recorded weights `[B, heads, 1, T]`.
/// `q = latent·W_qᵀ`, `k, v = x·W_kvᵀ` (rows k then v, each head-major),
/// `A = softmax(q kᵀ / √d)`, `y = proj(A v)`, `y ← y + mlp(norm(y))`.
/// Reference: timm's `AttentionPoolLatent` (latent_len 1, pool "token", no q/k norm), which
/// `transformers`' `SiglipMultiheadAttentionPoolingHead` computes too.
public struct AttentionPoolHead: ParameterContainer, Sendable {
  /// The learned query token, `[1, D]` (timm's `attn_pool.latent`, stored `[1, 1, D]`).
  public var latent: Tensor
  /// The query projection of the latent, D → D (timm's `q`).
  public var query: Linear
  /// The fused key and value projection of the tokens, D → 2D, rows k then v (timm's `kv`).
  public var keyValue: Linear
  /// The output projection of the attended vector, D → D (timm's `proj`).
  public var projection: Linear
  /// The LayerNorm before the residual MLP.
  public var norm: LayerNorm
  /// The residual MLP, `y ← y + mlp(norm(y))`.
  public var mlp: Mlp
  /// The number of attention heads (timm's `num_heads`, usually the ViT's).
  public let headCount: Int

  /// A head from its parts; preconditions check the shapes above and that `D` divides into `headCount` heads.
  public init(latent: Tensor, query: Linear, keyValue: Linear, projection: Linear, norm: LayerNorm, mlp: Mlp, headCount: Int) {
    let d = projection.outputs
    precondition(latent.shape == [1, d], "latent \(latent.shape) must be [1, \(d)]")
    precondition(keyValue.outputs == 2 * d && query.outputs == d, "kv \(keyValue.weight.shape) must be [2D, D], q \(query.weight.shape) [D, D]")
    precondition(headCount > 0 && d % headCount == 0, "D = \(d) must divide into \(headCount) heads")
    self.latent = latent
    self.query = query
    self.keyValue = keyValue
    self.projection = projection
    self.norm = norm
    self.mlp = mlp
    self.headCount = headCount
  }

  /// - Returns: pooled `[B, D]` and, when `record`, the weights `[B, heads, 1, T]`.
  public func callAsFunction(_ x: Tensor, record: Bool = false) -> (pooled: Tensor, weights: Tensor?) {
    precondition(x.rank == 3, "attention pooling needs [B, T, D], got \(x.shape)")
    let b = x.shape[0], t = x.shape[1], d = projection.outputs, h = headCount, hd = d / h
    let q = query(latent).reshaped([1, h, hd]).permuted([1, 0, 2])  // [H, 1, hd]
    let kv = keyValue(x).reshaped([b, t, 2, h, hd]).permuted([2, 0, 3, 1, 4])  // [2, B, H, T, hd]
    let parts = kv.chunked(2, axis: 0).map { $0.reshaped([b * h, t, hd]) }
    let queries = q.broadcast(to: [b, h, 1, hd]).reshaped([b * h, 1, hd])
    let scores = matmul(queries, parts[0], transposeB: true) * (1 / Float(hd).squareRoot())  // [B·H, 1, T]
    let weights = softmax(scores, axis: -1)
    let attended = matmul(weights, parts[1]).reshaped([b, h, hd]).reshaped([b, d])  // heads concatenated
    var y = projection(attended)
    y = y + mlp(norm(y))
    return (y, record ? weights.reshaped([b, h, 1, t]) : nil)
  }

  /// Re-initialises the head to start as the mean it generalises: the value and output
  /// projections become the identity and the MLP's last layer zero, so with the near-uniform
  /// attention of a small latent the pooled vector is the tokens' mean (what `--pool avg`
  /// reads) and training moves the attention away from uniform from there. The latent,
  /// query, keys and the MLP's first layer keep their random values.
  public func startAsMean() {
    let d = projection.outputs
    let identity = (0..<(d * d)).map { $0 / d == $0 % d ? Float(1) : 0 }
    // kv's rows are the keys' D outputs, then the values' D.
    keyValue.weight.scalars.replaceSubrange((d * d)..<(2 * d * d), with: identity)
    keyValue.bias?.scalars.replaceSubrange(d..<(2 * d), with: [Float](repeating: 0, count: d))
    projection.weight.scalars = identity
    projection.bias?.scalars = [Float](repeating: 0, count: d)
    mlp.fc2.weight.scalars = [Float](repeating: 0, count: mlp.fc2.weight.count)
    mlp.fc2.bias?.scalars = [Float](repeating: 0, count: mlp.fc2.weight.shape[0])
  }

  /// Parameters under timm's `attn_pool` names: `latent`, `q.*`, `kv.*`, `proj.*`, `norm.*`, `mlp.*`.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    [("latent", latent)] + prefixed("q", query) + prefixed("kv", keyValue) + prefixed("proj", projection)
      + prefixed("norm", norm) + prefixed("mlp", mlp)
  }
}

extension VisionTransformer {
  /// timm's `attn_pool.{latent, q, kv, proj, norm, mlp.fc1, mlp.fc2}`.
  static func timmAttentionPool(_ r: CheckpointReader, configuration c: ViTConfiguration) throws(CheckpointError) -> AttentionPoolHead {
    let d = c.embedDimension
    let hidden = r.shape("attn_pool.mlp.fc1.weight")?.first ?? 4 * d
    func linear(_ name: String, _ outputs: Int, _ inputs: Int) throws(CheckpointError) -> Linear {
      try r.linear("attn_pool.\(name)", outputs, inputs)
    }
    let heads = c.poolHeadCount ?? c.headCount
    guard d % heads == 0 else { throw .inconsistent(path: r.path, reason: "attention pool: \(heads) heads do not divide \(d)") }
    return AttentionPoolHead(
      latent: try r.tensor("attn_pool.latent", [1, d], storedAs: [1, 1, d]),
      query: try linear("q", d, d), keyValue: try linear("kv", 2 * d, d), projection: try linear("proj", d, d),
      norm: try r.layerNorm("attn_pool.norm", width: d, eps: c.layerNormEps, kind: c.normKind),
      mlp: Mlp(fc1: try linear("mlp.fc1", hidden, d), fc2: try linear("mlp.fc2", d, hidden), approximation: c.activation),
      headCount: heads)
  }
}
