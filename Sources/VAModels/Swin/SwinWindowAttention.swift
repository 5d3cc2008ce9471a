import Foundation
import VALayers
import VATensorCore

/// Window multi-head self-attention (W-MSA / SW-MSA) with Swin's position bias, over a batch
/// of windows.
///
/// v1 (Liu et al. 2021 §3.2, Eq. 4): `A = softmax(Q Kᵀ / √d + B + M)`, `B` read from a learned
/// table `[(2Wh−1)(2Ww−1), heads]` at each query–key offset. v2 (Liu et al. 2022 §3.1–3.2):
/// `A = softmax(τ · cos(Q, K) + 16 σ(B̂) + M)`, `τ = exp(min(logitScale, log 100))` per head and
/// `B̂` the continuous position bias: a 2 → 512 → heads MLP over log-spaced offsets
/// `sign(Δ) log₂(1 + 8|Δ|/(w−1)) / 3`. `M` is the shift mask (`SwinBlockGeometry.shiftMask`).
///
/// Shapes: `x` is `[windows, N, C]` (all images' windows stacked), the output `[windows, N, C]`,
/// the weights `[windows, heads, N, N]`. Matches timm's `WindowAttention` (swin_transformer.py,
/// swin_transformer_v2.py; non-fused path) and transformers' `SwinSelfAttention`/`Swinv2SelfAttention`.
public struct SwinWindowAttention: Sendable {
  /// The fused q, k, v projection, C → 3C, rows ordered q, k, v (timm's `qkv`; v2's bias is
  /// timm's `q_bias`, zeros for k, `v_bias`).
  public var qkv: Linear
  /// The output projection, C → C (timm's `proj`).
  public var projection: Linear
  /// The number of heads.
  public let headCount: Int
  /// v1: the relative position bias table `[(2Wh−1)(2Ww−1), heads]` for `trainedWindow`.
  public var biasTable: Tensor?
  /// v1: the window `[Wh, Ww]` the table indexes.
  public var trainedWindow: [Int]
  /// v2: the learned log logit scale, `[heads]` (timm's `logit_scale` `[heads, 1, 1]`). Read as
  /// a constant in the forward (clamped, then exponentiated per head): gradients do not reach it.
  public var logitScale: Tensor?
  /// v2: the continuous position bias MLP's first layer, 2 → 512 with bias.
  public var cpbHidden: Linear?
  /// v2: its second layer, 512 → heads without bias.
  public var cpbOutput: Linear?
  /// v2: the pretraining window `[Wh, Ww]` that normalises offsets, or `[0, 0]` for the block's own window.
  public var pretrainedWindow: [Int]

  /// A v1 layer; a precondition checks the table has a row per offset of `window`.
  public init(qkv: Linear, projection: Linear, headCount: Int, biasTable: Tensor, window: [Int]) {
    precondition(biasTable.shape == [(2 * window[0] - 1) * (2 * window[1] - 1), headCount], "bias table \(biasTable.shape) does not fit a \(window) window and \(headCount) heads")
    precondition(projection.outputs % headCount == 0, "width \(projection.outputs) does not divide into \(headCount) heads")
    self.qkv = qkv
    self.projection = projection
    self.headCount = headCount
    self.biasTable = biasTable
    self.trainedWindow = window
    self.pretrainedWindow = [0, 0]
  }

  /// A v2 layer; preconditions check the logit scale and MLP shapes against `headCount`.
  public init(qkv: Linear, projection: Linear, headCount: Int, logitScale: Tensor, cpbHidden: Linear, cpbOutput: Linear, pretrainedWindow: [Int]) {
    precondition(logitScale.count == headCount, "logit scale \(logitScale.shape) for \(headCount) heads")
    precondition(cpbHidden.inputs == 2 && cpbOutput.inputs == cpbHidden.outputs && cpbOutput.outputs == headCount, "cpb MLP \(cpbHidden.weight.shape) → \(cpbOutput.weight.shape) for \(headCount) heads")
    self.qkv = qkv
    self.projection = projection
    self.headCount = headCount
    self.logitScale = logitScale.reshaped([headCount])
    self.cpbHidden = cpbHidden
    self.cpbOutput = cpbOutput
    self.trainedWindow = [0, 0]
    self.pretrainedWindow = pretrainedWindow
  }

  /// Table row per (query, key) in a `wh × ww` window: `(Δy + wh − 1)(2ww − 1) + Δx + ww − 1`
  /// (timm's `get_relative_position_index`). `[N · N]`.
  static func relativeIndex(_ wh: Int, _ ww: Int) -> [Int] {
    let n = wh * ww
    var out = [Int](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n { out[i * n + j] = (i / ww - j / ww + wh - 1) * (2 * ww - 1) + (i % ww - j % ww + ww - 1) }
    }
    return out
  }

  /// v2's log-spaced offsets `[(2wh−1)(2ww−1), 2]` (Δy, Δx), float32 as timm computes them.
  static func logCoordinates(_ wh: Int, _ ww: Int, pretrained: [Int]) -> [Float] {
    let dh = Float(max((pretrained[0] > 0 ? pretrained[0] : wh) - 1, 1))
    let dw = Float(max((pretrained[1] > 0 ? pretrained[1] : ww) - 1, 1))
    func spaced(_ v: Float) -> Float {
      let a = v * 8
      let s: Float = a > 0 ? 1 : (a < 0 ? -1 : 0)
      return s * log2(abs(a) + 1) / Float(log2(8.0))
    }
    var out: [Float] = []
    for y in -(wh - 1)..<wh {
      for x in -(ww - 1)..<ww { out += [spaced(Float(y) / dh), spaced(Float(x) / dw)] }
    }
    return out
  }

  /// v1's table resized to a `wh × ww` window, `[(2wh−1)(2ww−1) · heads]`, as timm's
  /// `checkpoint_filter_fn` does with `resize_rel_pos_bias_table` when the feature map clamps a
  /// window below the trained one (geometric source spacing, then linear interpolation; see
  /// `RelativePositionBias.resizedTable`, whose three class-token rows Swin does not have).
  func resizedTable(_ wh: Int, _ ww: Int) -> [Float] {
    let h = headCount
    let padded = concat([biasTable!, Tensor.zeros([3, h])], axis: 0)
    let beit = RelativePositionBias(table: padded, windowHeight: trainedWindow[0], windowWidth: trainedWindow[1])
    return Array(beit.resizedTable(toHeight: wh, width: ww).dropLast(3 * h))
  }

  /// The additive position bias `[heads, N, N]` for a `wh × ww` window; a v1 table trained for
  /// another window is resized (`resizedTable`).
  public func positionBias(windowHeight wh: Int, windowWidth ww: Int) -> Tensor {
    let n = wh * ww, h = headCount
    let table: Tensor  // [(2wh−1)(2ww−1), heads]
    if let biasTable {
      table = trainedWindow == [wh, ww] ? biasTable : Tensor(shape: [(2 * wh - 1) * (2 * ww - 1), h], scalars: resizedTable(wh, ww))
    } else {
      let coords = Tensor(shape: [(2 * wh - 1) * (2 * ww - 1), 2], scalars: Self.logCoordinates(wh, ww, pretrained: pretrainedWindow))
      table = cpbOutput!(relu(cpbHidden!(coords))).sigmoid() * 16
    }
    // [N·N, heads] → [heads, N, N]
    return table.gathered(indices: Self.relativeIndex(wh, ww), axis: 0).reshaped([n, n, h]).permuted([2, 0, 1])
  }

  /// The attended windows and the post-softmax weights.
  /// - Parameters:
  ///   - x: `[windows, N, C]`: every image's windows, image-major, in window order per image.
  ///   - bias: the position bias `[heads, N, N]` (`positionBias`).
  ///   - mask: the shift mask `[windowsPerImage, N, N]`, or nil.
  /// - Returns: `[windows, N, C]` and `[windows, heads, N, N]`.
  public func callAsFunction(_ x: Tensor, bias: Tensor, mask: Tensor?) -> (output: Tensor, weights: Tensor) {
    let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
    let h = headCount, d = c / h
    // [B_, N, 3C] -> [3, B_, H, N, d], as timm's reshape(B_, N, 3, H, -1).permute(2, 0, 3, 1, 4).
    let parts = qkv(x).reshaped([b, n, 3, h, d]).permuted([2, 0, 3, 1, 4]).chunked(3, axis: 0).map { $0.reshaped([b * h, n, d]) }
    var scores: Tensor
    if let logitScale {
      // F.normalize(·, dim=-1): x / max(‖x‖, 1e-12), the max written as relu(‖x‖ − ε) + ε.
      func unit(_ t: Tensor) -> Tensor { t / (relu(t.squared().sum(axis: -1, keepDims: true).sqrt() - 1e-12) + 1e-12) }
      let scale = Tensor(shape: [h, 1, 1], scalars: logitScale.scalars.map { Foundation.exp(min($0, Float(Foundation.log(100.0)))) })
      scores = (matmul(unit(parts[0]), unit(parts[1]), transposeB: true).reshaped([b, h, n, n]) * scale)
    } else {
      scores = matmul(parts[0] * (1 / Float(d).squareRoot()), parts[1], transposeB: true).reshaped([b, h, n, n])
    }
    scores = scores + bias
    if let mask {
      let windows = mask.shape[0]
      scores = (scores.reshaped([b / windows, windows, h, n, n]) + mask.reshaped([windows, 1, n, n])).reshaped([b, h, n, n])
    }
    let weights = softmax(scores, axis: -1)
    let heads = matmul(weights.reshaped([b * h, n, n]), parts[2])  // [B_·H, N, d]
    let merged = heads.reshaped([b, h, n, d]).permuted([0, 2, 1, 3]).reshaped([b, n, c])
    return (projection(merged), weights)
  }
}
