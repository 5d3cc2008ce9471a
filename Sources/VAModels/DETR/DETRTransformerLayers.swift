import VALayers
import VATensorCore

/// DETR's feed-forward network, `fc2(relu(fc1(x)))` (transformers' `DetrMLP`, ReLU activation).
///
/// Shapes: `[T, D]` → `[T, D]` through `[T, F]`. Names `fc1`, `fc2` (transformers 4) or
/// `mlp.fc1`, `mlp.fc2` (5).
public struct DETRFeedForward: Sendable {
  /// `D → F` and `F → D`.
  public var fc1: Linear, fc2: Linear

  /// A network from loaded layers.
  public init(fc1: Linear, fc2: Linear) {
    precondition(fc1.outputs == fc2.inputs && fc1.inputs == fc2.outputs, "DETRFeedForward needs D → F → D, got \(fc1.weight.shape) and \(fc2.weight.shape)")
    (self.fc1, self.fc2) = (fc1, fc2)
  }

  /// `fc2(relu(fc1(x)))`.
  public func callAsFunction(_ x: Tensor) -> Tensor { fc2(relu(fc1(x))) }
}

/// One DETR encoder layer, post-norm (Carion et al. 2020, Fig. 10; transformers'
/// `DetrEncoderLayer`): `x ← norm1(x + attn(x + pos, x + pos, x))`, `x ← norm2(x + ffn(x))`.
///
/// Shapes: `x` and `position` `[S, D]` (S = feature rows × columns, row-major); the output is
/// `[S, D]` and the attention `[heads, S, S]`.
public struct DETREncoderLayer: Sendable {
  /// Self-attention over the feature map's positions (`self_attn`).
  public var attention: DETRAttention
  /// Norm after the attention's residual sum (`self_attn_layer_norm`).
  public var attentionNorm: LayerNorm
  /// The feed-forward network.
  public var feedForward: DETRFeedForward
  /// Norm after the feed-forward residual sum (`final_layer_norm`).
  public var finalNorm: LayerNorm

  /// A layer from loaded parts.
  public init(attention: DETRAttention, attentionNorm: LayerNorm, feedForward: DETRFeedForward, finalNorm: LayerNorm) {
    (self.attention, self.attentionNorm, self.feedForward, self.finalNorm) = (attention, attentionNorm, feedForward, finalNorm)
  }

  /// The layer's output `[S, D]` and its attention `[heads, S, S]`.
  public func callAsFunction(_ x: Tensor, position: Tensor) -> (output: Tensor, attention: Tensor) {
    precondition(position.shape == x.shape, "DETREncoderLayer position \(position.shape) must match the tokens \(x.shape)")
    let queryKey = x + position
    let (attended, weights) = attention(queries: queryKey, keys: queryKey, values: x)
    let h = attentionNorm(x + attended)
    return (finalNorm(h + feedForward(h)), weights)
  }
}

/// One DETR decoder layer, post-norm (transformers' `DetrDecoderLayer`): self-attention among
/// the object queries, cross-attention from the queries to the encoder's memory, feed-forward:
/// `t ← norm1(t + self(t + q_pos, t + q_pos, t))`,
/// `t ← norm2(t + cross(t + q_pos, memory + pos, memory))`, `t ← norm3(t + ffn(t))`.
///
/// Shapes: `t` and `queryPosition` `[Q, D]`, `memory` and `position` `[S, D]`; the output is
/// `[Q, D]`, the self-attention `[heads, Q, Q]` and the cross-attention `[heads, Q, S]`.
public struct DETRDecoderLayer: Sendable {
  /// Self-attention among the queries (`self_attn`) and its norm (`self_attn_layer_norm`).
  public var selfAttention: DETRAttention, selfAttentionNorm: LayerNorm
  /// Cross-attention to the memory (`encoder_attn`) and its norm (`encoder_attn_layer_norm`).
  public var crossAttention: DETRAttention, crossAttentionNorm: LayerNorm
  /// The feed-forward network and its norm (`final_layer_norm`).
  public var feedForward: DETRFeedForward, finalNorm: LayerNorm

  /// A layer from loaded parts.
  public init(
    selfAttention: DETRAttention, selfAttentionNorm: LayerNorm, crossAttention: DETRAttention, crossAttentionNorm: LayerNorm,
    feedForward: DETRFeedForward, finalNorm: LayerNorm
  ) {
    (self.selfAttention, self.selfAttentionNorm, self.crossAttention, self.crossAttentionNorm) = (selfAttention, selfAttentionNorm, crossAttention, crossAttentionNorm)
    (self.feedForward, self.finalNorm) = (feedForward, finalNorm)
  }

  /// The layer's output `[Q, D]`, self-attention `[heads, Q, Q]` and cross-attention `[heads, Q, S]`.
  public func callAsFunction(
    _ t: Tensor, queryPosition: Tensor, memory: Tensor, position: Tensor
  ) -> (output: Tensor, selfAttention: Tensor, crossAttention: Tensor) {
    precondition(queryPosition.shape == t.shape && position.shape == memory.shape, "DETRDecoderLayer positions \(queryPosition.shape), \(position.shape) must match \(t.shape), \(memory.shape)")
    let queryKey = t + queryPosition
    let (attended, selfWeights) = selfAttention(queries: queryKey, keys: queryKey, values: t)
    var h = selfAttentionNorm(t + attended)
    let (crossed, crossWeights) = crossAttention(queries: h + queryPosition, keys: memory + position, values: memory)
    h = crossAttentionNorm(h + crossed)
    return (finalNorm(h + feedForward(h)), selfWeights, crossWeights)
  }
}
