import Foundation
import VAModels
import VATensorCore

/// What a gradient map explains.
public enum AttributionTarget: Sendable, Equatable {
  /// The classifier's top-1 class.
  case topClass
  /// Output `K` of the classifier (`--class K`).
  case classIndex(Int)
  /// Cosine similarity between the model's image embedding (the head's output, or the
  /// pooled tokens of a model without a head) and this vector (`--target-embedding`),
  /// as CLIP Grad-CAM users compute it by hand.
  case embedding([Float])
}

extension VisionTransformer {
  /// One forward and one backward pass over a batch, giving every image its `Attribution`.
  ///
  /// Only the input requires gradients (the weights stay as they are, so nothing
  /// accumulates in them); the attention goes through the composed autograd path, whose
  /// recorded weights are graph tensors (`MultiHeadSelfAttention`). The images' targets are
  /// summed into one scalar: images do not interact in the forward, so each image's
  /// gradients are those of its own target.
  /// - Parameters:
  ///   - inputs: normalised images `[B, 3, H, W]`.
  ///   - targets: one per image, or one for all.
  /// - Throws: `VisionAttentionError.noClassifier` for a class target on a model without a head,
  ///   `.classOutOfRange`, `.embeddingSizeMismatch`.
  /// - Complexity: a forward and backward pass, plus O(L·H·T² + L·T³) per image for the
  ///   rollout.
  public func attributions(batch inputs: Tensor, targets: [AttributionTarget]) throws(VisionAttentionError) -> [Attribution] {
    let b = inputs.shape[0]
    precondition(targets.count == b || targets.count == 1, "\(targets.count) targets for a batch of \(b)")
    let targets = targets.count == b ? targets : Array(repeating: targets[0], count: b)
    let c = configuration
    let classes = head?.outputs ?? 0
    for target in targets {
      switch target {
      case .topClass:
        guard head != nil else { throw .noClassifier }
      case .classIndex(let k):
        guard head != nil else { throw .noClassifier }
        guard (0..<classes).contains(k) else { throw .classOutOfRange(class: k, classes: classes) }
      case .embedding(let e):
        let size = head != nil ? classes : c.embedDimension
        guard e.count == size else { throw .embeddingSizeMismatch(got: e.count, expected: size) }
      }
    }
    let x = Tensor(shape: inputs.shape, scalars: inputs.scalars, requiresGrad: true)
    let (out, scores, chosen) = withGradientsEnabled { () -> (Output, [Float], [Int?]) in
      let out = self(batch: x, recordAttention: true, recordAttentionInputs: true)
      for a in out.attention { a.retainGrad() }
      out.attentionInputs.last?.retainGrad()
      let logits = out.logits?.scalars
      var seed = [Float](repeating: 0, count: b * classes)
      var chosen: [Int?] = [], embeddings: [Float] = [], embeddingRows: [Int] = []
      for (i, target) in targets.enumerated() {
        switch target {
        case .topClass, .classIndex:
          let row = Array(logits![(i * classes)..<((i + 1) * classes)])
          let k: Int
          if case .classIndex(let given) = target { k = given } else { k = row.indices.max { row[$0] < row[$1] } ?? 0 }
          seed[i * classes + k] = 1
          chosen.append(k)
        case .embedding(let e):
          embeddings += e
          embeddingRows.append(i)
          chosen.append(nil)
        }
      }
      var scores = (0..<b).map { i in chosen[i].map { logits![i * classes + $0] } ?? 0 }
      var total: Tensor?
      if chosen.contains(where: { $0 != nil }), let logitsTensor = out.logits {
        total = (logitsTensor * Tensor(shape: [b, classes], scalars: seed)).sum()
      }
      if !embeddingRows.isEmpty {
        // y_i = v_i · e_i / (‖v_i‖ ‖e_i‖), v the projected (head) or pooled embedding.
        let v = (out.logits ?? out.pooled!).gathered(indices: embeddingRows, axis: 0)  // [E, size]
        let e = Tensor(shape: v.shape, scalars: embeddings)
        let eNorms = Tensor(
          shape: [embeddingRows.count],
          scalars: (0..<embeddingRows.count).map { r in
            let size = v.shape[1]
            return max(embeddings[(r * size)..<((r + 1) * size)].reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
          })
        let cosine = (v * e).sum(axis: 1) / ((v.squared().sum(axis: 1).sqrt() + 1e-12) * eNorms)
        for (r, i) in embeddingRows.enumerated() { scores[i] = cosine.scalars[r] }
        let summed = cosine.sum()
        total = total.map { $0 + summed } ?? summed
      }
      total!.backward()
      return (out, scores, chosen)
    }
    return assemble(out, scores: scores, chosen: chosen, batch: b)
  }

  /// Turns the retained gradients into per-image maps.
  private func assemble(_ out: Output, scores: [Float], chosen: [Int?], batch b: Int) -> [Attribution] {
    let c = configuration
    let heads = c.headCount, prefix = c.prefixTokens
    let n = out.gridWidth * out.gridHeight, t = prefix + n, d = c.embedDimension
    let logits = out.logits?.scalars
    let classes = logits.map { $0.count / b } ?? 0
    let embeddings = (out.logits ?? out.pooled!).scalars
    let embeddingSize = embeddings.count / b
    let activations = out.attentionInputs.last!.scalars
    let activationGrad = out.attentionInputs.last!.grad?.scalars ?? [Float](repeating: 0, count: activations.count)
    return (0..<b).map { i in
      // Which token rows the head reads, as weights: the map shown is readout · R.
      var readout = [Float](repeating: 0, count: t)
      switch c.globalPool {
      case .token where headDistillation != nil && prefix >= 2:
        // DeiT distilled: the logits average the class and distillation tokens' heads.
        (readout[0], readout[1]) = (0.5, 0.5)
      case .token:
        readout[0] = 1
      case .average:
        for j in prefix..<t { readout[j] = 1 / Float(n) }
      case .attention:
        // SigLIP's MAP head: the pooled vector is the pooling head's weighted sum of the
        // patches, so the patch rows count by its weights (heads averaged, the map every
        // consumer of the pooling head reads).
        guard let pool = out.attentionRecord(image: i, configuration: c).poolMap(.fused(.mean)) else {
          preconditionFailure("the forward records the pooling head's weights with the attention")
        }
        for j in 0..<n { readout[prefix + j] = pool[j] }
      }
      var r = [Double](repeating: 0, count: t * t)
      for j in 0..<t { r[j * t + j] = 1 }
      var terms: [[Float]] = []
      let size = heads * t * t
      for a in out.attention {
        let g = a.grad?.scalars ?? [Float](repeating: 0, count: a.count)
        let term = Attribution.rectifiedProduct(
          attention: a.scalars[(i * size)..<((i + 1) * size)], gradient: g[(i * size)..<((i + 1) * size)], heads: heads, tokens: t)
        Attribution.accumulate(&r, term, tokens: t)
        terms.append(term.map { Float($0) })
      }
      let cam = Attribution.gradCAM(
        activations: activations[(i * t * d)..<((i + 1) * t * d)], gradient: activationGrad[(i * t * d)..<((i + 1) * t * d)],
        prefix: prefix, patches: n, channels: d)
      let own = logits.map { Array($0[(i * classes)..<((i + 1) * classes)]) }
      var probability: Double?
      if let own, let k = chosen[i] {
        // Softmax in Double with the maximum subtracted.
        let peak = Double(own.max() ?? 0)
        probability = exp(Double(own[k]) - peak) / own.reduce(0.0) { $0 + exp(Double($1) - peak) }
      }
      return Attribution(
        targetClass: chosen[i], score: scores[i], probability: probability, logits: own,
        embedding: Array(embeddings[(i * embeddingSize)..<((i + 1) * embeddingSize)]),
        prefixTokens: prefix, gridWidth: out.gridWidth, gridHeight: out.gridHeight, readout: readout,
        gradRollout: r.map { Float($0) }, attentionGradient: terms, gradCAM: cam)
    }
  }
}
