import VAInspection

/// Class-specific maps of one image from one backward pass: gradient-weighted attention
/// rollout, attention × gradient per layer and Grad-CAM, for a target score `y` (a class
/// logit, or the cosine similarity to a target embedding).
///
/// Token geometry as in `AttentionRecord`: `T = prefixTokens + gridWidth · gridHeight`,
/// class token and registers first, patches row-major.
public struct Attribution: Sendable {
  /// The class `y` is the logit of; nil when the target is an embedding.
  public var targetClass: Int?
  /// `y` itself.
  public var score: Float
  /// The target class's softmax probability, when there is a classifier.
  public var probability: Double?
  /// `[classes]`, when the model has a classifier.
  public var logits: [Float]?
  /// The vector a target embedding is compared with: the head's output when the model has
  /// a head (a CLIP-style projection), else the pooled tokens, `[D]`.
  public var embedding: [Float]
  /// Tokens before the patches: the class token and any registers.
  public var prefixTokens: Int
  /// Patches per row of the model's input.
  public var gridWidth: Int
  /// Patch rows of the model's input.
  public var gridHeight: Int
  /// How the head reads the final tokens, `[T]`: one on the class token for token pooling,
  /// `1/N` on every patch for average pooling. A relevance matrix's map is this row vector
  /// times the matrix, restricted to the patches.
  public var readout: [Float]
  /// Chefer et al. 2021 (ICCV), self-attention rule, `[T, T]` row-major:
  /// `R = I`; per layer `R ← R + Ā · R` with `Ā = mean over heads of relu(∂y/∂A ⊙ A)`, `A`
  /// the layer's post-softmax attention. Matches the authors' `generate_relevance` for ViTs.
  public var gradRollout: [Float]
  /// Per layer, `Ā` above (attention × gradient, rectified, averaged over heads), `[T, T]` each.
  public var attentionGradient: [[Float]]
  /// Grad-CAM (Selvaraju et al. 2017) as pytorch-grad-cam computes it for ViTs with
  /// `target_layers = [blocks[-1].norm1]` and a reshape dropping the prefix tokens:
  /// `w_c = mean over patches of ∂y/∂A_c`, `cam = relu(Σ_c w_c A_c)`, `[gridHeight · gridWidth]`,
  /// before normalisation and upsampling.
  public var gradCAM: [Float]

  /// `T`: prefix tokens plus patches, the side of every `[T, T]` matrix here.
  public var tokens: Int { prefixTokens + gridWidth * gridHeight }

  /// `readout · matrix` over the patches, `[gridHeight · gridWidth]`: what a `[T, T]`
  /// relevance matrix says about the patches for the pooled output.
  public func patchMap(of matrix: [Float]) -> [Float] {
    let t = tokens
    precondition(matrix.count == t * t, "a relevance matrix has \(t * t) values, got \(matrix.count)")
    var map = [Double](repeating: 0, count: t - prefixTokens)
    for (row, weight) in readout.enumerated() where weight != 0 {
      for j in prefixTokens..<t { map[j - prefixTokens] += Double(weight) * Double(matrix[row * t + j]) }
    }
    return map.map { Float($0) }
  }

  /// The gradient rollout's map over the patches.
  public var gradRolloutMap: [Float] { patchMap(of: gradRollout) }

  /// Attention × gradient of `layer` over the patches.
  public func attentionGradientMap(layer: Int) -> [Float] { patchMap(of: attentionGradient[layer]) }
}

extension Attribution {
  /// Chefer's per-layer term and rule from one layer's attention and its gradient, both
  /// `[heads, T, T]`: returns `Ā = mean_h relu(g ⊙ A)` `[T, T]`. Accumulates in `Double`.
  static func rectifiedProduct(attention a: ArraySlice<Float>, gradient g: ArraySlice<Float>, heads: Int, tokens t: Int) -> [Double] {
    var out = [Double](repeating: 0, count: t * t)
    let (ab, gb) = (a.startIndex, g.startIndex)
    for h in 0..<heads {
      for i in 0..<(t * t) {
        let v = Double(a[ab + h * t * t + i]) * Double(g[gb + h * t * t + i])
        if v > 0 { out[i] += v }
      }
    }
    let scale = 1 / Double(heads)
    return out.map { $0 * scale }
  }

  /// `R ← R + Ā · R`, `[T, T]` row-major, in `Double`. O(T³).
  static func accumulate(_ r: inout [Double], _ term: [Double], tokens t: Int) {
    var product = [Double](repeating: 0, count: t * t)
    for i in 0..<t {
      for k in 0..<t {
        let w = term[i * t + k]
        if w == 0 { continue }
        for j in 0..<t { product[i * t + j] += w * r[k * t + j] }
      }
    }
    for i in 0..<(t * t) { r[i] += product[i] }
  }

  /// Grad-CAM over the patches from the last block's `norm1` output and its gradient, both
  /// `[T, D]` (prefix tokens first, skipped as pytorch-grad-cam's reshape drops them).
  static func gradCAM(activations: ArraySlice<Float>, gradient: ArraySlice<Float>, prefix: Int, patches n: Int, channels d: Int) -> [Float] {
    let (ab, gb) = (activations.startIndex, gradient.startIndex)
    var weights = [Double](repeating: 0, count: d)
    for p in 0..<n {
      for c in 0..<d { weights[c] += Double(gradient[gb + (prefix + p) * d + c]) }
    }
    for c in 0..<d { weights[c] /= Double(n) }
    return (0..<n).map { p in
      var sum = 0.0
      for c in 0..<d { sum += weights[c] * Double(activations[ab + (prefix + p) * d + c]) }
      return Float(max(sum, 0))
    }
  }
}
