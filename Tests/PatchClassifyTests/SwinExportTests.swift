import Foundation
import Testing
import VATensorCore
@testable import PatchClassifyKit

/// The shipped Swin (Examples/patch-classify/model-swin) against timm on the committed
/// ShapeWorld validation samples of SavedClassifierTests.
///
/// Fixtures/swin-export/timm_predictions.json (timm's predictions and logits, timm building the
/// model from the folder's config.json alone and loading its weights with strict=True) was
/// written by Scripts/reference/check_swin_export.py (timm 1.0.31, torch 2.15). Regenerate:
/// swift build --product patch-classify && python3 Scripts/reference/check_swin_export.py
struct SwinExportTests {
  static let shipped = SavedClassifierTests.repository + "/Examples/patch-classify/model-swin"
  static let reference = SavedClassifierTests.repository + "/Tests/PatchClassifyTests/Fixtures/swin-export/timm_predictions.json"

  /// `evaluate`'s path (checkpoint loader, folder, class alignment by `label_names`) predicts
  /// every image as timm does, with logits within 1e-4 of timm's (float32 GEMMs summed in
  /// another order; timm's logits are stored rounded to 1e-6), so the accuracy is timm's.
  @Test func theShippedSwinPredictsAsTimmDoes() throws {
    let reference = try JSONDecoder().decode(
      SavedClassifierTests.Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.reference)))
    var options = EvaluationOptions(weights: Self.shipped, data: .folder(SavedClassifierTests.fixture + "/images"))
    options.split = .all
    let result = try CheckpointEvaluation.run(options)
    #expect(result.model == "swin" && result.imageSize == 64)
    #expect(result.sources == reference.images.map(\.source))
    #expect(result.predictions.map { result.classNames[$0] } == reference.images.map(\.predicted))
    #expect(result.report.accuracy == reference.accuracy)

    let saved = try SavedClassifier(loading: Self.shipped)
    guard case .swin(var model) = saved.network else {
      Issue.record("the shipped Swin loaded as \(saved.kind)")
      return
    }
    let data = try saved.align(try ImageFolder.load(SavedClassifierTests.fixture + "/images", size: 64))
    let logits = withGradientsDisabled { model.logits(BatchMaker(mean: model.mean, std: model.std).tensor(data.images), training: false) }
    let classes = saved.classCount
    for (i, image) in reference.images.enumerated() {
      let mine = Array(logits.scalars[(i * classes)..<((i + 1) * classes)])
      let error = zip(mine, image.logits).map { abs($0 - $1) }.max()!
      #expect(error < 1e-4, "\(image.source): logits differ from timm's by \(error)")
    }
  }
}
