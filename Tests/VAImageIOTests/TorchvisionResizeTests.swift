import Foundation
import Testing

@testable import VAImageIO

/// Resizing against torchvision's `resize(antialias=True)` on uint8 tensors (torch 2.15), what
/// Hugging Face's torchvision image processors run; written by Scripts/reference/naflex_fixtures.py.
struct TorchvisionResizeTests {
  static let cases: [(filter: ResizeFilter, width: Int, height: Int)] = [
    (.bilinear, 224, 144), (.bilinear, 96, 160), (.bilinear, 512, 336), (.bilinear, 608, 96),
    (.bicubic, 224, 144), (.bicubic, 96, 160), (.bicubic, 512, 336), (.bicubic, 608, 96),
  ]

  /// Exact: the int16 weights, their per-pass precision and the horizontal-then-vertical order
  /// are ATen's, so no pixel differs (Pillow's 22-bit weights differ in the last bit of some).
  @Test(arguments: cases)
  func matchesTorchvisionExactly(filter: ResizeFilter, width: Int, height: Int) throws {
    let input = try Image(contentsOfFile: repositoryFile("images/cat.png")).rgb()
    let expected = try Image(contentsOfFile: fixture("generated/torchvision/cat_\(filter.rawValue)_\(width)x\(height).png")).rgb()
    let resized = input.torchvisionResized(width: width, height: height, filter: filter)
    #expect((resized.width, resized.height) == (expected.width, expected.height))
    let worst = zip(resized.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    #expect(worst == 0, "largest difference from torchvision: \(worst)")
  }
}
