import Foundation
import VALayers
import VATensorCore

/// DETR's multi-head attention with separate query, key, value and output projections
/// (Vaswani et al. 2017 §3.2.2), as transformers' `DetrSelfAttention` / `DetrCrossAttention`
/// compute it in eager mode: `softmax((q·kᵀ) · d_h^−½) · v` per head, then the output projection.
///
/// DETR adds position encodings to the inputs of the query and key projections only, never to
/// the values, so the three inputs are passed separately: in the encoder `(x + pos, x + pos, x)`,
/// in the decoder's self-attention `(t + query_pos, t + query_pos, t)`, in its cross-attention
/// `(t + query_pos, memory + pos, memory)`.
///
/// Shapes: `queries` `[T_q, D]`, `keys` and `values` `[T_k, D]`; the output is `[T_q, D]` and the
/// attention weights `[heads, T_q, T_k]`, each row summing to 1.
/// Names: `q_proj`, `k_proj`, `v_proj`, and `out_proj` (transformers 4) or `o_proj` (5).
public struct DETRAttention: Sendable {
  /// `D → D` projections of the queries, keys and values.
  public var query: Linear, key: Linear, value: Linear
  /// `D → D` projection of the concatenated heads.
  public var output: Linear
  /// The number of heads; `D` must be a multiple of it.
  public let heads: Int

  /// A layer from loaded projections.
  public init(query: Linear, key: Linear, value: Linear, output: Linear, heads: Int) {
    let d = query.outputs
    precondition(
      heads > 0 && d % heads == 0 && [query, key, value, output].allSatisfy { $0.inputs == d && $0.outputs == d },
      "DETRAttention needs four \(d)×\(d) projections and heads \(heads) dividing \(d)")
    (self.query, self.key, self.value, self.output, self.heads) = (query, key, value, output, heads)
  }

  /// The width `D`.
  public var width: Int { query.outputs }

  /// The attended values `[T_q, D]` and the weights `[heads, T_q, T_k]`.
  public func callAsFunction(queries: Tensor, keys: Tensor, values: Tensor) -> (output: Tensor, weights: Tensor) {
    let (d, hd) = (width, width / heads)
    precondition(queries.rank == 2 && queries.shape[1] == d, "DETRAttention queries must be [T_q, \(d)], got \(queries.shape)")
    precondition(
      keys.rank == 2 && keys.shape[1] == d && values.shape == keys.shape,
      "DETRAttention keys and values must be [T_k, \(d)] alike, got \(keys.shape) and \(values.shape)")
    let (tq, tk) = (queries.shape[0], keys.shape[0])
    // [T, D] → [heads, T, d_h]
    func split(_ x: Tensor, _ t: Int) -> Tensor { x.reshaped([t, heads, hd]).permuted([1, 0, 2]) }
    let q = split(query(queries), tq), k = split(key(keys), tk), v = split(value(values), tk)
    // As transformers' eager path: the scaling (d_h ** -0.5 in double, then float32) multiplies
    // the scores, not the queries.
    let scaling = Float(Foundation.pow(Double(hd), -0.5))
    let weights = softmax(matmul(q, k, transposeB: true) * scaling, axis: -1)  // [heads, T_q, T_k]
    let attended = matmul(weights, v).permuted([1, 0, 2]).reshaped([tq, d])  // [T_q, D]
    return (output(attended), weights)
  }
}
