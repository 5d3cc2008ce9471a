import Foundation
import VAImageIO
import VAInspection
import VARendering

/// The maps of the tokens themselves rather than the attention: `--map pca` (the DINO papers'
/// patch features as RGB) and `--map norms` (high-norm tokens, Darcet et al. 2024).
extension Scene {
  /// The run's tokens, or why the model has none.
  func tokenFeatures(_ map: MapKind) throws(VisionAttentionError) -> TokenFeatures {
    guard let features = run.features else { throw .needsTokens(map: map.rawValue) }
    return features
  }

  /// The PCA of the patch tokens `--layer` names (the final tokens without one), as
  /// `PatchPCAResult` fits it with `--foreground` and `--pca-from`.
  func patchPCA() throws(VisionAttentionError) -> (result: PatchPCAResult, tokens: [Float], features: TokenFeatures) {
    let features = try tokenFeatures(.pca)
    let tokens = features.tokens(layer: settings.layer)
    let result = try PatchPCAResult(
      tokens: tokens, prefix: attention.prefixTokens, dimension: features.dimension, foreground: settings.foreground,
      given: settings.pcaFit, source: settings.pcaSource ?? "(shared fit)")
    return (result, tokens, features)
  }

  /// The RGB picture of `colours` (`[3, N]` in [0, 1]) at the model input's size, each channel
  /// upsampled from the patch grid as `--upsample` says.
  func rgbPicture(_ colours: [Float]) -> Image {
    let gw = attention.gridWidth, gh = attention.gridHeight, n = gw * gh
    let w = image.width, h = image.height
    let channels = (0..<3).map { k in
      HeatMap(gridWidth: gw, gridHeight: gh, values: Array(colours[(k * n)..<((k + 1) * n)])).upsampled(width: w, height: h, method: settings.upsample)
    }
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    for i in 0..<(w * h) {
      for k in 0..<3 { pixels[i * 3 + k] = UInt8((min(max(channels[k][i], 0), 1) * 255).rounded()) }
    }
    return Image(width: w, height: h, channels: 3, pixels: pixels)
  }

  /// The dump's tensors of `--map pca`: `features` `[T, D]` (the tokens fitted, prefix
  /// included), `pca` `[3, rows, cols]` (whitened, before the sigmoid), and with
  /// `--foreground` the mask `foreground` `[rows, cols]` and `foreground_threshold` `[1]`.
  func pcaTensors(_ result: PatchPCAResult, tokens: [Float], dimension: Int) -> [(name: String, shape: [Int], values: [Float])] {
    let gw = attention.gridWidth, gh = attention.gridHeight
    var tensors: [(name: String, shape: [Int], values: [Float])] = [
      ("features", [tokens.count / dimension, dimension], tokens),
      ("pca", [3, gh, gw], result.projections.map(Float.init)),
    ]
    if let threshold = result.threshold {
      tensors.append(("foreground", [gh, gw], result.foreground.map { $0 ? 1 : 0 }))
      tensors.append(("foreground_threshold", [1], [Float(threshold)]))
    }
    return tensors
  }

  /// `--map pca --style bare`: the RGB picture alone, at the model input's size.
  func pcaBareFigure() throws(VisionAttentionError) -> RenderedFigure {
    let (result, tokens, features) = try patchPCA()
    return RenderedFigure(image: rgbPicture(result.colours), tensors: pcaTensors(result, tokens: tokens, dimension: features.dimension))
  }

  /// The input beside its patch tokens' first three principal components as RGB =
  /// sigmoid(2 · whitened projection), background black with `--foreground`.
  func pcaFigure() throws(VisionAttentionError) -> RenderedFigure {
    let (result, tokens, features) = try patchPCA()
    let which = settings.layer.map { "block \($0)'s output tokens" } ?? "final tokens (after the final norm)"
    let variance = result.fit.explainedVariance.map { String(format: "%.3g", $0) }.joined(separator: ", ")
    var caption = ["PCA of the \(attention.patchCount) patches: \(which), \(features.dimension) channels", "RGB = sigmoid(2 \u{B7} whitened PC1, PC2, PC3); variances \(variance)"]
    if let threshold = result.threshold {
      let kept = result.foreground.filter { $0 }.count
      caption.append(
        "foreground: PC1 \u{2265} \(String(format: "%.4g", threshold)) (\(settings.foreground == .otsu ? "Otsu" : "--foreground")), \(kept) of \(result.foreground.count) patches"
          + (settings.pcaFit == nil ? ", refitted on them" : ""))
    }
    if let source = settings.pcaSource { caption.append("fit from \(source)") }
    let panel = Panel(image: displayed(rgbPicture(result.colours)), caption: caption)
    let figure = Figure.sideBySide([inputPanel(marked: false), panel], title: "patch features, first three principal components | \(modelCaption)")
    return RenderedFigure(image: figure, tensors: pcaTensors(result, tokens: tokens, dimension: features.dimension))
  }

  /// The token norms after every block: a small map of the patches' norms per layer with the
  /// high-norm patches outlined, and a plot of every prefix token's norm and the patches'
  /// median and largest per layer; the dump's `norms` `[L, T]`.
  func normsFigure() throws(VisionAttentionError) -> RenderedFigure {
    let features = try tokenFeatures(.norms)
    let norms = features.norms
    let high = TokenFeatures.highNormTokens(norms, factor: settings.normFactor)
    let p = attention.prefixTokens, gw = attention.gridWidth, gh = attention.gridHeight
    let layers = norms.count
    let low = norms.flatMap { $0[p...] }.min() ?? 0, top = norms.flatMap { $0[p...] }.max() ?? 1
    // Small multiples about 112 px on their longer side (whole pixels per patch), at most 6 per row.
    let scale = max(1, min(16, 112 / max(gw, gh)))
    let cellW = gw * scale, cellH = gh * scale, spacing = 14, perRow = min(layers, 6)
    var canvas = Canvas(width: perRow * (cellW + spacing), height: (layers + perRow - 1) / perRow * (cellH + spacing))
    for (l, layer) in norms.enumerated() {
      let x = l % perRow * (cellW + spacing), y = l / perRow * (cellH + spacing) + spacing - 2
      let map = HeatMap(gridWidth: gw, gridHeight: gh, values: Array(layer[p...]))
      canvas.overlay(map.normalized(to: (low, top)).upsampled(width: cellW, height: cellH, method: .nearest), width: cellW, height: cellH, x: x, y: y, colormap: settings.colormap, alpha: 1)
      for t in high[l] where t >= p {
        let c = (t - p) % gw, r = (t - p) / gw
        canvas.strokeRect(x: x + c * scale - 1, y: y + r * scale - 1, width: scale + 2, height: scale + 2, RGB.markers[2])
      }
      canvas.text("\(l)", x: x, y: y - spacing + 2, RGB.black)
    }
    var series: [Plot.Series] = [
      Plot.Series(points: norms.enumerated().map { (Double($0.offset), TokenFeatures.median($0.element[p...].map(Double.init))) }, color: RGB(128, 128, 128), connected: true, label: "patches, median"),
      Plot.Series(points: norms.enumerated().map { (Double($0.offset), Double($0.element[p...].max() ?? 0)) }, color: RGB(40, 40, 40), connected: true, label: "patches, largest"),
    ]
    for t in 0..<p {
      series.append(Plot.Series(points: norms.enumerated().map { (Double($0.offset), Double($0.element[t])) }, color: RGB.markers[t % RGB.markers.count], connected: true, label: prefixName(t)))
    }
    let plot = Plot(series: series, xLabel: "layer (block output)", yLabel: "token L2 norm", xRange: -0.5...(Double(layers) - 0.5), integerX: true)
    let counts = high.enumerated().map { l, tokens in
      let prefix = tokens.filter { $0 < p }.map(prefixName)
      return "layer \(l): \(plural(tokens.count, "high-norm token"))" + (prefix.isEmpty ? "" : " (\(prefix.joined(separator: ", ")))")
    }
    let panels = [
      Panel(image: canvas.image, caption: ["patch norms per layer (0 top left), outlined: norm > \(formatted(settings.normFactor)) \u{D7} the layer's median"], colorBar: ColorBar(colormap: settings.colormap, minimum: low, maximum: top)),
      Panel(image: plot.render(width: 460, height: 320), caption: counts),
    ]
    var figure = RenderedFigure(image: Figure.sideBySide(panels, title: "token norms after each block | \(modelCaption)"))
    figure.tensors.append(("norms", [layers, features.tokens], norms.flatMap { $0 }))
    return figure
  }

  /// "class", "distillation" or "register r" for prefix token `t`, in the model's order.
  func prefixName(_ t: Int) -> String {
    var index = t
    if attention.hasClassToken {
      if index == 0 { return "class token" }
      index -= 1
    }
    // DeiT's distillation token follows the class token (timm's order: class, dist, registers).
    if (model as? CheckpointModel)?.model.distillationToken != nil {
      if index == 0 { return "distillation token" }
      index -= 1
    }
    return "register \(index)"
  }

  private func formatted(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
