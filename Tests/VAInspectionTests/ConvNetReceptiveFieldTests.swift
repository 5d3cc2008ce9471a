import VAModels
import Testing
@testable import VAInspection

struct ConvNetReceptiveFieldTests {
  /// By hand with the Distill recurrences (r ← r + (k − 1)·j, P ← P + p·j, j ← j·s):
  /// VGG-like, per stage two conv3p1 and a pool2s2: r = 1 → 5 → 6 (j 2) → 14 → 16 (j 4) →
  /// 32 → 36 (j 8) → 68 → 76 (j 16); P = 2 + 4 + 8 + 16 = 30.
  /// ResNet-like: conv3p1, pool2s2 (r 4, j 2, P 1), then 3×3 pairs with the stride on the
  /// first of stages 2-4: r 8, 12; 16, 24 (j 4); 32, 48 (j 8); 64, 96 (j 16);
  /// P = 1 + 2 + 2 + 2 + 4 + 4 + 8 + 8 + 16 = 47.
  @Test func presetsHaveHandComputedFields() {
    #expect(ReceptiveField.of(ConvStack(.vggLike(classCount: 2))) == ReceptiveField(size: 76, stride: 16, padding: 30))
    #expect(ReceptiveField.of(ConvStack(.resNetLike(classCount: 2))) == ReceptiveField(size: 96, stride: 16, padding: 47))
  }

  @Test func layersMapOneToOneAndBasicBlocksToTheirLongestPath() {
    let configuration = ConvNetConfiguration(
      stages: [
        [.conv(outputs: 4, kernel: 5, stride: 2, padding: 4, dilation: 2), .pool(.average, kernel: 3, stride: 2, padding: 1)],
        [.basic(outputs: 8, stride: 2)],
      ], classCount: 2)
    #expect(ConvStack(configuration).layers.map(\.description) == ["conv5s2p4d2", "pool3s2p1", "conv3s2p1", "conv3p1"])
  }
}
