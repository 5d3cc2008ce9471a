import Foundation
import VALayers
import VAModels
import VATensorCore

// DETR's layers (VAModels' `DETRAttention`, `DETREncoderLayer`, `DETRDecoderLayer`) run over a
// batch of sequences at once for training: the same weights and the same arithmetic as their
// single-image `callAsFunction`, with a leading batch axis so every projection is one GEMM.

extension DETRAttention {
  /// The attended values `[N, T_q, D]` of queries `[N, T_q, D]` over keys and values `[N, T_k, D]`.
  func batched(queries: Tensor, keys: Tensor, values: Tensor) -> Tensor {
    let (n, tq, tk, d) = (queries.shape[0], queries.shape[1], keys.shape[1], width)
    let hd = d / heads
    // [N, T, D] → [N, heads, T, d_h]
    func split(_ x: Tensor, _ t: Int) -> Tensor { x.reshaped([n, t, heads, hd]).permuted([0, 2, 1, 3]) }
    let q = split(query(queries), tq), k = split(key(keys), tk), v = split(value(values), tk)
    let scaling = Float(Foundation.pow(Double(hd), -0.5))
    let weights = softmax(matmul(q, k, transposeB: true) * scaling, axis: -1)  // [N, heads, T_q, T_k]
    return output(matmul(weights, v).permuted([0, 2, 1, 3]).reshaped([n, tq, d]))
  }
}

extension DETREncoderLayer {
  /// `x ← norm1(x + attn(x + pos, x + pos, x))`, `x ← norm2(x + ffn(x))` for `x` `[B, S, D]`,
  /// `position` `[S, D]`.
  func batched(_ x: Tensor, position: Tensor) -> Tensor {
    let queryKey = x + position
    let h = attentionNorm(x + attention.batched(queries: queryKey, keys: queryKey, values: x))
    return finalNorm(h + feedForward(h))
  }
}

extension DETRDecoderLayer {
  /// One decoder layer for `t` `[N, Q, D]` with query positions `[N, Q, D]` over `memory` and
  /// `memoryKeys` (memory plus its positions), `[N, S, D]`.
  func batched(_ t: Tensor, queryPosition: Tensor, memory: Tensor, memoryKeys: Tensor) -> Tensor {
    let queryKey = t + queryPosition
    var h = selfAttentionNorm(t + selfAttention.batched(queries: queryKey, keys: queryKey, values: t))
    h = crossAttentionNorm(h + crossAttention.batched(queries: h + queryPosition, keys: memoryKeys, values: memory))
    return finalNorm(h + feedForward(h))
  }
}

/// Xavier-uniform weights and zero biases (Glorot & Bengio 2010), as DETR's transformer
/// initialises its projections (`nn.init.xavier_uniform_` in `Transformer._reset_parameters`).
func xavierLinear<G: RandomNumberGenerator>(_ inputs: Int, _ outputs: Int, using rng: inout G) -> Linear {
  let bound = (6 / Float(inputs + outputs)).squareRoot()
  return Linear(weight: Tensor.randomUniform([outputs, inputs], low: -bound, high: bound, using: &rng), bias: Tensor.zeros([outputs]))
}

extension DETRAttention {
  /// A fresh attention layer of width `d`: four Xavier-initialised projections.
  init<G: RandomNumberGenerator>(width d: Int, heads: Int, using rng: inout G) {
    self.init(
      query: xavierLinear(d, d, using: &rng), key: xavierLinear(d, d, using: &rng), value: xavierLinear(d, d, using: &rng),
      output: xavierLinear(d, d, using: &rng), heads: heads)
  }

  /// The four projections under transformers 4's names (`q_proj` … `out_proj`).
  var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("q_proj", query) + prefixed("k_proj", key) + prefixed("v_proj", value) + prefixed("out_proj", output)
  }
}

extension DETREncoderLayer {
  /// A fresh layer.
  init<G: RandomNumberGenerator>(width d: Int, heads: Int, feedForward f: Int, using rng: inout G) {
    self.init(
      attention: DETRAttention(width: d, heads: heads, using: &rng), attentionNorm: LayerNorm(channels: d, eps: 1e-5),
      feedForward: DETRFeedForward(fc1: xavierLinear(d, f, using: &rng), fc2: xavierLinear(f, d, using: &rng)),
      finalNorm: LayerNorm(channels: d, eps: 1e-5))
  }

  /// Parameters under `DetrEncoderLayer`'s names (transformers 4).
  var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("self_attn", attention.namedParameters) + prefixed("self_attn_layer_norm", attentionNorm) + prefixed("fc1", feedForward.fc1)
      + prefixed("fc2", feedForward.fc2) + prefixed("final_layer_norm", finalNorm)
  }
}

extension DETRDecoderLayer {
  /// A fresh layer.
  init<G: RandomNumberGenerator>(width d: Int, heads: Int, feedForward f: Int, using rng: inout G) {
    self.init(
      selfAttention: DETRAttention(width: d, heads: heads, using: &rng), selfAttentionNorm: LayerNorm(channels: d, eps: 1e-5),
      crossAttention: DETRAttention(width: d, heads: heads, using: &rng), crossAttentionNorm: LayerNorm(channels: d, eps: 1e-5),
      feedForward: DETRFeedForward(fc1: xavierLinear(d, f, using: &rng), fc2: xavierLinear(f, d, using: &rng)),
      finalNorm: LayerNorm(channels: d, eps: 1e-5))
  }

  /// Parameters under `DetrDecoderLayer`'s names (transformers 4).
  var namedParameters: [(name: String, tensor: Tensor)] {
    prefixed("self_attn", selfAttention.namedParameters) + prefixed("self_attn_layer_norm", selfAttentionNorm) + prefixed("encoder_attn", crossAttention.namedParameters)
      + prefixed("encoder_attn_layer_norm", crossAttentionNorm) + prefixed("fc1", feedForward.fc1) + prefixed("fc2", feedForward.fc2)
      + prefixed("final_layer_norm", finalNorm)
  }
}

/// `prefix.` before each of a list's names.
func prefixed(_ prefix: String, _ list: [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
  list.map { ("\(prefix).\($0.name)", $0.tensor) }
}
