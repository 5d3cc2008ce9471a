import Foundation
import VAImageIO
import VAInspection
import VAModels
import VARendering
import VATensorCore

/// Grad-CAM of the trained CNN of `--cnn-weights`, beside the ViT's maps.
extension Scene {
  /// The CNN's Grad-CAM of this scene's image and where its input lies in the image.
  ///
  /// The CNN sees the model input (`image`, what the ViT saw) as `patch-classify` fed it its
  /// training images: the shorter side resized to the checkpoint's `input_size`, the centre
  /// square, normalised with its mean and std (`Image.centreSquare`). The class is
  /// `settings.target`'s index (`--class K`), else the CNN's own top-1 (a target embedding
  /// names no class).
  /// - Returns: nil without `settings.cnnWeights`; else the map and the square the CNN saw,
  ///   in model-input pixels (`origin`, side `side`).
  /// - Throws: `VisionAttentionError.cnnClassOutOfRange` for a class index the CNN lacks.
  public func cnnGradCAM() throws(VisionAttentionError) -> (cam: ConvNetGradCAM, origin: (x: Double, y: Double), side: Double)? {
    guard let cnn = settings.cnnWeights else { return nil }
    var requested: Int?
    if case .classIndex(let k) = settings.target {
      guard (0..<cnn.classCount).contains(k) else {
        throw .cnnClassOutOfRange(class: k, classes: cnn.classCount, folder: cnn.folder ?? "(in memory)")
      }
      requested = k
    }
    let square = image.centreSquare(side: cnn.inputSize)
    let input = Tensor(shape: [1, 3, cnn.inputSize, cnn.inputSize], scalars: square.image.planarFloats(mean: cnn.mean, std: cnn.std))
    let cam = cnn.net.gradCAM(input, classes: [requested])[0]
    return (cam, square.origin, Double(cnn.inputSize) / square.scale)
  }

  /// The Grad-CAM panel over the displayed input, the part the CNN did not see dimmed, and
  /// the `cnn_gradcam` `[rows, cols]` dump tensor (before normalisation and upsampling).
  func cnnGradCAMPanel() throws(VisionAttentionError) -> (panel: Panel, tensor: (name: String, shape: [Int], values: [Float]))? {
    guard let cnn = settings.cnnWeights, let result = try cnnGradCAM() else { return nil }
    let (cam, origin, side) = result
    let s = Double(displayScale)
    var canvas = Canvas(displayed(image))
    let x = Int((origin.x * s).rounded()), y = Int((origin.y * s).rounded())
    let size = min(Int((side * s).rounded()), canvas.width - x, canvas.height - y)
    let cropped = x > 0 || y > 0 || size < canvas.width || size < canvas.height
    if cropped {
      // Dim the strips outside the square: the CNN never saw them.
      canvas.fillRect(x: 0, y: 0, width: canvas.width, height: y, .black, opacity: 0.6)
      canvas.fillRect(x: 0, y: y + size, width: canvas.width, height: canvas.height - y - size, .black, opacity: 0.6)
      canvas.fillRect(x: 0, y: y, width: x, height: size, .black, opacity: 0.6)
      canvas.fillRect(x: x + size, y: y, width: canvas.width - x - size, height: size, .black, opacity: 0.6)
    }
    let map = HeatMap(gridWidth: cam.gridWidth, gridHeight: cam.gridHeight, values: cam.map)
    canvas.overlay(
      map.normalized().upsampled(width: size, height: size, method: settings.upsample),
      width: size, height: size, x: x, y: y, colormap: settings.colormap, alpha: settings.alpha)
    let (low, high) = map.range
    var caption = [
      "Grad-CAM of the trained CNN (\(cnn.architecture), widths \(cnn.net.configuration.stageWidths.map(String.init).joined(separator: "-")))",
      "for \(cnnTargetDescription(cam, cnn: cnn))",
      "on its last stage's \(cam.gridWidth)x\(cam.gridHeight) map; class-specific and local",
    ]
    if high <= 0 { caption.append("zero everywhere: no part of the image raises this class's logit") }
    if cropped { caption.append("the CNN sees the centre square at \(cnn.inputSize)x\(cnn.inputSize) px, as patch-classify trained it") }
    if case .classIndex(let k) = settings.target, let vit = model.classNames, k < vit.count, let own = cnn.labelNames, vit[k] != own[k] {
      // The same index may name different classes in two models: say so rather than imply they agree.
      caption.append("note: the ViT calls class \(k) '\(vit[k])', the CNN '\(own[k])'")
    }
    let panel = Panel(image: canvas.image, caption: caption, colorBar: ColorBar(colormap: settings.colormap, minimum: low, maximum: high))
    return (panel, ("cnn_gradcam", [cam.gridHeight, cam.gridWidth], cam.map))
  }

  /// "circle (class 2), p = 0.87: --class 2" or "…: the CNN's own top-1".
  func cnnTargetDescription(_ cam: ConvNetGradCAM, cnn: ConvNetCheckpoint) -> String {
    let k = cam.targetClass
    let name = cnn.labelNames.map { "\($0[k]) (class \(k))" } ?? "class \(k)"
    let whose: String
    switch settings.target {
    case .classIndex: whose = "--class \(k)"
    case .topClass: whose = "the CNN's own top-1"
    case .embedding: whose = "the CNN's own top-1 (--target-embedding names no class)"
    }
    return "\(name), p = \(String(format: "%.2f", cam.probability)): \(whose)"
  }
}
