import Foundation
import VAModels
import VATensorCore

/// Grad-CAM of one image through a trained `ConvNet`, for one class.
///
/// Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
/// Gradient-based Localization" (ICCV), Eq. 1–2, as pytorch-grad-cam computes it with
/// `target_layers = [model.stages[-1]]`: `A` `[C, h, w]` is the last stage's output,
/// `w_k = (1/hw) Σ_ij ∂y_K/∂A_kij` (y_K the class logit, before the softmax) and
/// `map = relu(Σ_k w_k A_k)`.
public struct ConvNetGradCAM: Sendable, Equatable {
  /// The class explained, K.
  public var targetClass: Int
  /// `[classes]`, the network's logits for the image.
  public var logits: [Float]
  /// The target class's softmax probability.
  public var probability: Double
  /// The feature map's size: `map` is `[gridHeight · gridWidth]`, row-major.
  public var gridWidth: Int
  /// The feature map's height in positions.
  public var gridHeight: Int
  /// `relu(Σ_k w_k A_k)` over the feature map, before normalisation and upsampling.
  public var map: [Float]
  /// `w_k`, `[C]`: the spatial mean of the target's gradient per channel.
  public var weights: [Float]

  /// The top-1 class of `logits` (the first, on ties).
  public var topClass: Int { logits.indices.max { logits[$0] < logits[$1] } ?? 0 }
}

extension ConvNet {
  /// Grad-CAM of every image of a batch, each for its class (nil: its top-1 class), from
  /// one forward and one backward pass.
  ///
  /// The stages run without gradients; their output `A` becomes a leaf that requires them, and
  /// only what follows it (a SAGAN block placed after the last stage, global average pooling,
  /// the head) is differentiated by the tensor core's autograd, so no gradient reaches (or
  /// accumulates in) the network's weights unless they require gradients themselves. The
  /// images' targets are summed into one scalar: images do not interact in an evaluation
  /// forward (BatchNorm uses its running statistics), so each gets its own target's gradient.
  /// - Parameters:
  ///   - images: normalised inputs `[B, C_in, H, W]`.
  ///   - classes: one per image, or one for all; each below `configuration.classCount`.
  /// - Complexity: one forward pass, plus a backward pass through the head.
  public func gradCAM(_ images: Tensor, classes: [Int?]) -> [ConvNetGradCAM] {
    let b = images.shape[0], classCount = configuration.classCount
    precondition(
      images.rank == 4 && images.shape[1] == configuration.inputChannels,
      "Grad-CAM expects [B, \(configuration.inputChannels), H, W], got \(images.shape)")
    precondition(classes.count == b || classes.count == 1, "\(classes.count) classes for a batch of \(b)")
    let classes = classes.count == b ? classes : Array(repeating: classes[0], count: b)
    for case let k? in classes { precondition((0..<classCount).contains(k), "class \(k) is outside the \(classCount) classes") }
    let last = stages.count - 1
    var attention = attention
    let features = withGradientsDisabled { () -> Tensor in
      var y = images
      for (i, stage) in stages.enumerated() {
        for layer in stage { y = layer(y, training: false) }
        if i < last, configuration.attention?.afterStage == i, var block = attention {
          y = block(y, training: false).output
          attention = block
        }
      }
      return y
    }
    let a = Tensor(shape: features.shape, scalars: features.scalars, requiresGrad: true)  // [B, C, h, w]
    let (logits, chosen) = withGradientsEnabled { () -> ([Float], [Int]) in
      var y = a
      if configuration.attention?.afterStage == last, var block = attention { y = block(y, training: false).output }
      let out = head(y.mean(axes: [2, 3]))  // [B, classes]
      let values = out.scalars
      let chosen = classes.enumerated().map { i, k in
        k ?? (0..<classCount).max { values[i * classCount + $0] < values[i * classCount + $1] } ?? 0
      }
      var seed = [Float](repeating: 0, count: b * classCount)
      for (i, k) in chosen.enumerated() { seed[i * classCount + k] = 1 }
      (out * Tensor(shape: [b, classCount], scalars: seed)).sum().backward()
      return (values, chosen)
    }
    let (c, h, w) = (a.shape[1], a.shape[2], a.shape[3])
    let gradient = a.grad?.scalars ?? [Float](repeating: 0, count: a.count)
    return (0..<b).map { i in
      let own = Array(logits[(i * classCount)..<((i + 1) * classCount)])
      let k = chosen[i]
      let weights = (0..<c).map { channel in
        let base = (i * c + channel) * h * w
        return Float(gradient[base..<(base + h * w)].reduce(0.0) { $0 + Double($1) } / Double(h * w))
      }
      let map = (0..<(h * w)).map { p in
        var sum = 0.0
        for channel in 0..<c { sum += Double(weights[channel]) * Double(features.scalars[(i * c + channel) * h * w + p]) }
        return Float(max(sum, 0))
      }
      // Softmax in Double with the maximum subtracted.
      let peak = Double(own.max() ?? 0)
      let probability = exp(Double(own[k]) - peak) / own.reduce(0.0) { $0 + exp(Double($1) - peak) }
      return ConvNetGradCAM(targetClass: k, logits: own, probability: probability, gridWidth: w, gridHeight: h, map: map, weights: weights)
    }
  }
}
