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

  /// The gradient map `settings.map` names over the patches, its caption and dump tensors.
  func gradientMap() throws(VisionAttentionError) -> (values: [Float], title: String, tensors: [(name: String, shape: [Int], values: [Float])]) {
    let a = try attribution()
    let t = a.tokens
    let target = Self.describeTarget(a, names: model.classNames)
    switch settings.map {
    case .gradcam:
      return (a.gradCAM, "Grad-CAM on the last block's norm1 for \(target)", [("gradcam", [a.gridHeight, a.gridWidth], a.gradCAM)])
    case .attngrad:
      return (a.attentionGradientMap(layer: layer), "attention x gradient at layer \(layer) (relu, mean of heads) for \(target)",
              [("attngrad", [t, t], a.attentionGradient[layer])])
    default:
      return (a.gradRolloutMap, "gradient rollout (Chefer et al. 2021) over \(a.attentionGradient.count) layers for \(target)",
              [("gradrollout", [t, t], a.gradRollout)])
    }
  }

  /// The gradient map beside the input; `--map gradcam` with a trained CNN
  /// (`settings.cnnWeights`) also shows the CNN's Grad-CAM (`cnn_gradcam` in the dump).
  func gradientFigure() throws(VisionAttentionError) -> RenderedFigure {
    let (values, title, tensors) = try gradientMap()
    if settings.map == .gradcam, let cnn = try cnnGradCAMPanel() {
      let panels = [inputPanel(marked: false), heatPanel(values, caption: [title], marked: false), cnn.panel]
      return RenderedFigure(image: Figure.sideBySide(panels, title: "vit-attend | \(modelCaption)"), tensors: tensors + [cnn.tensor])
    }
    var figure = mapFigure(values, title: title, marked: false)
    figure.tensors += tensors
    return figure
  }
}
