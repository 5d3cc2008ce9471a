import Foundation
import VAInspection
import VARendering

/// The class-specific maps: gradient rollout, Grad-CAM and attention × gradient.
extension Scene {
  /// The model's attribution of this scene's image for `settings.target`.
  /// - Throws: `VisionAttentionError.targetNeedsCheckpoint` for a model without gradients (the
  ///   built-in one), or the attribution's own errors (no classifier, class out of range).
  public func attribution() throws(VisionAttentionError) -> Attribution {
    guard let model = model as? any AttributableModel else {
      throw .targetNeedsCheckpoint(map: settings.map.map { "--map \($0.rawValue)" } ?? "a gradient map")
    }
    return try attributionMemo.value { () throws(VisionAttentionError) in try model.attributions([image], targets: [settings.target])[0] }
  }

  /// "tabby (class 281), p = 0.87", "class 3, p = 0.41", or "cosine similarity 0.27 to the
  /// target embedding".
  static func describeTarget(_ a: Attribution, names: [String]?) -> String {
    guard let k = a.targetClass else { return "cosine similarity \(String(format: "%.3f", a.score)) to the target embedding" }
    let name = names.flatMap { k < $0.count ? $0[k] : nil }
    let what = name.map { "\($0) (class \(k))" } ?? "class \(k)"
    return a.probability.map { "\(what), p = \(String(format: "%.2f", $0))" } ?? what
  }

  /// A class-specific map over the patches, its caption (the target follows it) and the
  /// tensors a dump adds.
  struct GradientMap {
    var values: [Float]
    var title: String
    var tensors: [(name: String, shape: [Int], values: [Float])]
  }

  /// Gradient rollout (Chefer et al. 2021); `layer` is not read.
  static func gradRollout(_ a: Attribution, layer: Int) -> GradientMap {
    let t = a.tokens
    return GradientMap(
      values: a.gradRolloutMap, title: "gradient rollout (Chefer et al. 2021) over \(a.attentionGradient.count) layers",
      tensors: [("gradrollout", [t, t], a.gradRollout)])
  }

  /// Grad-CAM on the last block's first LayerNorm; `layer` is not read.
  static func gradCAM(_ a: Attribution, layer: Int) -> GradientMap {
    GradientMap(values: a.gradCAM, title: "Grad-CAM on the last block's norm1", tensors: [("gradcam", [a.gridHeight, a.gridWidth], a.gradCAM)])
  }

  /// Attention × gradient at `layer`, rectified and averaged over heads.
  static func attentionGradient(_ a: Attribution, layer: Int) -> GradientMap {
    let t = a.tokens
    return GradientMap(
      values: a.attentionGradientMap(layer: layer), title: "attention x gradient at layer \(layer) (relu, mean of heads)",
      tensors: [("attngrad", [t, t], a.attentionGradient[layer])])
  }

  /// The gradient map `draw` makes (its registry entry's) for this scene's target, captioned.
  func gradientMap(_ draw: (Attribution, Int) -> GradientMap) throws(VisionAttentionError) -> GradientMap {
    let a = try attribution()
    var map = draw(a, layer)
    map.title += " for \(Self.describeTarget(a, names: model.classNames))"
    return map
  }

  /// The bare overlay of a gradient map.
  func gradientOverlay(_ draw: (Attribution, Int) -> GradientMap) throws(VisionAttentionError) -> (values: [Float], tensors: [(name: String, shape: [Int], values: [Float])]) {
    let map = try gradientMap(draw)
    return (map.values, map.tensors)
  }

  /// The gradient map beside the input; a map that reads `--cnn-weights` (`gradcam`) with a
  /// trained CNN (`settings.cnnWeights`) also shows the CNN's Grad-CAM (`cnn_gradcam` in the dump).
  func gradientFigure(_ draw: (Attribution, Int) -> GradientMap) throws(VisionAttentionError) -> RenderedFigure {
    let map = try gradientMap(draw)
    if MapRegistry.spec(settings.map).reads.contains(.cnnWeights), let cnn = try cnnGradCAMPanel() {
      let panels = [inputPanel(marked: false), heatPanel(map.values, caption: [map.title], marked: false), cnn.panel]
      return RenderedFigure(image: Figure.sideBySide(panels, title: "vit-attend | \(modelCaption)"), tensors: map.tensors + [cnn.tensor])
    }
    var figure = mapFigure(map.values, title: map.title, marked: false)
    figure.tensors += map.tensors
    return figure
  }
}
