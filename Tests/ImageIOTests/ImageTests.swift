import Testing
@testable import ImageIO

@Test func blankImageHasInterleavedLayout() {
  let image = Image(width: 3, height: 2, channels: 4, filledWith: 7)
  #expect(image.pixels.count == 24)
  #expect(image.pixels.allSatisfy { $0 == 7 })
}
