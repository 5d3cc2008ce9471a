import Testing

@testable import VisionAttention

/// The NaFlex resize plan against transformers 5.25's `get_image_size_for_max_num_patches`
/// (values printed by Scripts/reference/naflex_fixtures.py, patch 16).
struct NaFlexGeometryTests {
  @Test(arguments: [
    (224, 224, 64, 128, 128), (100, 170, 64, 96, 160), (480, 640, 256, 224, 288), (1000, 50, 256, 1024, 64),
    (7, 9, 256, 224, 288), (300, 451, 1024, 416, 624), (512, 512, 196, 224, 224),
  ])
  func sizeIsTheProcessors(height: Int, width: Int, patches: Int, expectedHeight: Int, expectedWidth: Int) throws {
    let size = InputGeometry.sizeForMaximumPatches(height: height, width: width, patchSize: 16, maximumPatches: patches)
    #expect(size == (expectedHeight, expectedWidth))
    let geometry = try InputGeometry(originalWidth: width, originalHeight: height, patchSize: 16, maximumPatches: patches)
    #expect((geometry.width, geometry.height, geometry.cropX, geometry.cropY) == (expectedWidth, expectedHeight, 0, 0))
    #expect(geometry.gridWidth * geometry.gridHeight <= patches)
    // Each axis has its own scale: a point maps through and back.
    let point = geometry.modelPoint(x: Double(width) / 3, y: Double(height) / 5)
    #expect(abs(point.x - Double(expectedWidth) / 3) < 1e-9 && abs(point.y - Double(expectedHeight) / 5) < 1e-9)
    let back = geometry.originalPoint(x: point.x, y: point.y)
    #expect(abs(back.x - Double(width) / 3) < 1e-9 && abs(back.y - Double(height) / 5) < 1e-9)
  }
}
