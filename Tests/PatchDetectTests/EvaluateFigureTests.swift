import Foundation
import Testing
import VAImageIO
import VAModels
import VARendering

@testable import PatchDetectKit

/// The run's figures: where boxes land, and the DETR attention that feeds them.
@Suite struct EvaluateFigureTests {
  /// A box of image pixels lands on the scaled pixels of the cell: a 64-pixel image in a
  /// 128-pixel cell doubles, so the box (8, 8)–(40, 40) is outlined from 16 to 79 inclusive.
  @Test func boxesLandOnTheirScaledPixels() {
    let fit = DetectionFigures.Fit(image: Image(width: 64, height: 64, channels: 3, filledWith: 40), cell: 128)
    var canvas = fit.canvas()
    fit.stroke(PixelBox(minX: 8, minY: 8, maxX: 40, maxY: 40), on: &canvas, DetectionFigures.truthColor)
    let color = DetectionFigures.truthColor
    #expect(canvas.pixel(x: 16, y: 16) == color && canvas.pixel(x: 79, y: 79) == color && canvas.pixel(x: 17, y: 40) == color)
    #expect(canvas.pixel(x: 15, y: 16) != color && canvas.pixel(x: 80, y: 79) != color && canvas.pixel(x: 40, y: 40) != color)
    // A wide image is centred: 128×64 in a 128 cell sits 32 pixels down.
    let wide = DetectionFigures.Fit(image: Image(width: 128, height: 64, channels: 3), cell: 128)
    #expect((wide.x, wide.y, wide.width, wide.height) == (0, 32, 128, 64))
  }

  /// From the DETR fixture: one attention map per kept detection, each the query's
  /// last-layer cross-attention (sums to 1), and a figure with the truth and the detections drawn.
  @Test func detrExampleAndFigure() throws {
    let model = try EvaluateTests.modelFolder()
    defer { try? FileManager.default.removeItem(atPath: model) }
    let detector = DETRDetector(try DETR.importCheckpoint(from: model))
    let data = try COCODataset(path: EvaluateTests.fixture + "/data")
    let examples = data.images.prefix(2).map { image in
      let (detections, output) = detector.detect(image.sample.image)
      return DetectionExample(sample: image.sample, detections: detections, output: output, threshold: 0, limit: 2)
    }
    for example in examples {
      #expect(example.detections.count == 2 && example.detections[0].score >= example.detections[1].score)
      for map in example.attention {
        let values = try #require(map).values
        #expect(abs(values.reduce(0, +) - 1) < 1e-4)
      }
    }
    let figure = DetectionFigures.validation(examples, classNames: data.classNames)
    let pixels = Canvas(figure)
    var colors = Set<[UInt8]>()
    for y in 0..<figure.height {
      for x in 0..<figure.width {
        let p = pixels.pixel(x: x, y: y)
        colors.insert([p.r, p.g, p.b])
      }
    }
    for color in [DetectionFigures.truthColor, DetectionFigures.color(0), DetectionFigures.color(1)] { #expect(colors.contains([color.r, color.g, color.b])) }
    #expect(figure.width >= 3 * 192)
  }

  /// Curves: one panel per name, rows of three, loss first; run outputs land under their names.
  @Test func curvesAndRunOutputs() throws {
    let steps = Array(stride(from: 10, through: 3000, by: 10))
    let curves = ["loss": steps.map { 3 / Double($0).squareRoot() }, "loss_ce": steps.map { 1 / Double($0) }, "loss_giou": steps.map { _ in 0.5 }, "val_ap50": steps.map { Double($0) / 3000 }]
    let image = DetectionFigures.curves(curves, steps: steps)
    #expect(image.width >= 3 * 360 && image.height >= 2 * 260)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let result = AveragePrecision.evaluate(groundTruth: [], predictions: [], imageIDs: [1], classes: 2)
    try RunOutputs.write(to: folder, evaluation: result, classNames: ["a", "b"], images: 1, issues: [], curves: curves, steps: steps, examples: [])
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["curves.png", "metrics.json"])
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/metrics.json"))) as? [String: Any])
    #expect(json["ap"] is NSNull)
    #expect((json["curves"] as? [String: [Double]])?["loss"]?.count == steps.count)
    #expect((json["curve_steps"] as? [Int]) == steps)
  }
}
