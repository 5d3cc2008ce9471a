import Foundation
import PatchDetectKit
import Testing
import VAModels
import VATensorCore

/// `DETROutput.featureCell` with patch-detect's trunks, whose stride is not the hub's 32: the
/// cell under a pixel is the pixel over the backbone's own stride (input size / map size).
@Suite struct FeatureStrideTests {
  /// The committed two-stage checkpoint (stride 8): a 64×48 input gives an 8×6 map.
  @Test func twoStageCheckpointHasStrideEight() throws {
    let model = try DETR.importCheckpoint(from: SmallDETRTests.fixtureFolder).model
    var rng = SplitMix64(seed: 3)
    let output = withGradientsDisabled { model(Tensor.randomNormal([3, 64, 48], using: &rng)) }
    #expect((output.featureHeight, output.featureWidth, output.featureStride) == (8, 6, 8))
    #expect(output.featureCell(x: 47, y: 20) == (2, 5))
    #expect(output.featureCell(x: 8, y: 63) == (7, 1))
  }

  /// patch-detect's default three-stage trunk (stride 16) on a 128×96 input: an 8×6 map, and
  /// the last pixel's cell is the last cell (a stride of 32 would put it at (3, 2)).
  @Test func defaultTrunkHasStrideSixteen() {
    var rng = SplitMix64(seed: 4)
    let model = SmallDETR(SmallDETRConfiguration(classes: 3), using: &rng).frozen(labels: ["a", "b", "c"])
    let output = withGradientsDisabled { model(Tensor.randomNormal([3, 128, 96], using: &rng)) }
    #expect((output.featureHeight, output.featureWidth, output.featureStride) == (8, 6, 16))
    #expect(output.featureCell(x: 95, y: 127) == (7, 5))
    #expect(output.featureCell(x: 40, y: 17) == (1, 2))
    #expect(output.featureStride * output.featureWidth == 96 && output.featureStride * output.featureHeight == 128)
  }
}
