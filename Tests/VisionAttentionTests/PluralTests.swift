import Testing
@testable import VisionAttention

struct PluralTests {
  @Test func countsTakeTheRightNumber() {
    #expect(plural(1, "layer") == "1 layer" && plural(0, "head") == "0 heads" && plural(12, "prefix token") == "12 prefix tokens")
  }

  /// The built-in model has one layer: the error says so in the singular.
  @Test func errorsCountInTheSingular() {
    #expect(VisionAttentionError.layerOutOfRange(layer: 3, layers: 1).description == "--layer 3 is out of range: the model has 1 layer (0...0)")
    #expect(VisionAttentionError.headOutOfRange(head: 9, heads: 4).description == "--head 9 is out of range: the model has 4 heads (0...3)")
  }
}
