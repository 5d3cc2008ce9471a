import PatchDetectKit
import Testing

@Suite struct DetectionTypesTests {
  /// COCO's [x, y, w, h] and DETR's normalised (cx, cy, w, h) of one box.
  @Test func boxConversions() {
    let box = PixelBox(coco: [10, 20, 30, 40])
    #expect(box == PixelBox(minX: 10, minY: 20, maxX: 40, maxY: 60))
    #expect(box.area == 1200)
    #expect(box.coco == [10, 20, 30, 40])
    #expect(box.normalizedCenter(width: 100, height: 200) == [0.25, 0.2, 0.3, 0.2])
  }
}
