import Foundation
import VATensorCore

/// A CNN feature extractor that needs no training: fixed filters whose responses are
/// documented, pooled to a coarser grid, so attention over its feature map (SAGAN) can be
/// drawn for any image without weights.
///
/// Layers (the receptive field follows from `stack`): a 3×3 convolution of RGB into 12 maps
/// (luminance edges at 0°, 45°, 90° and 135°, each sign separately; the colour opponents
/// R−G and (R+G)/2−B, each sign separately), ReLU, 2×2 average pooling, a 3×3 box blur per
/// map, then two more 2×2 average poolings: a map at 1/8 of the image size.
/// Shapes: `[3, H, W]` in 0…1 → `[12, H/8, W/8]`.
public struct FeatureBank: Sendable {
  /// The number of feature maps, 12 (four edge orientations and two colour opponents, each sign).
  public static let channels = 12
  /// The stack as the receptive-field code reads it.
  public static let stack = "conv3p1,pool2s2,conv3p1,pool2s2,pool2s2"

  let edges: Tensor  // [12, 3, 3, 3]
  let blur: Tensor  // [12, 1, 3, 3], depthwise

  /// The bank with its fixed filters built (no parameters to load).
  public init() {
    var w = [Float](repeating: 0, count: 12 * 3 * 9)
    // Sobel-like kernels on luminance (R+G+B)/3 at four orientations.
    let sobel: [[Float]] = [
      [-1, 0, 1, -2, 0, 2, -1, 0, 1],  // 0°: vertical edges
      [0, 1, 2, -1, 0, 1, -2, -1, 0],  // 45°
      [-1, -2, -1, 0, 0, 0, 1, 2, 1],  // 90°: horizontal edges
      [-2, -1, 0, -1, 0, 1, 0, 1, 2],  // 135°
    ]
    for (o, kernel) in sobel.enumerated() {
      for sign in 0..<2 {
        let out = o * 2 + sign
        for c in 0..<3 { for t in 0..<9 { w[(out * 3 + c) * 9 + t] = (sign == 0 ? 1 : -1) * kernel[t] / 3 } }
      }
    }
    // Colour opponents at the centre tap: R−G, and (R+G)/2−B, each sign.
    let opponents: [[Float]] = [[1, -1, 0], [0.5, 0.5, -1]]
    for (o, weights) in opponents.enumerated() {
      for sign in 0..<2 {
        let out = 8 + o * 2 + sign
        for c in 0..<3 { w[(out * 3 + c) * 9 + 4] = (sign == 0 ? 1 : -1) * weights[c] }
      }
    }
    edges = Tensor(shape: [12, 3, 3, 3], scalars: w)
    blur = Tensor(shape: [12, 1, 3, 3], scalars: [Float](repeating: 1.0 / 9, count: 12 * 9))
  }

  /// Feature map of `rgb` (`[3, H, W]`, H and W multiples of 8).
  public func callAsFunction(_ rgb: Tensor) -> Tensor {
    precondition(rgb.rank == 3 && rgb.shape[0] == 3 && rgb.shape[1] % 8 == 0 && rgb.shape[2] % 8 == 0, "feature bank needs [3, H, W] with H, W multiples of 8, got \(rgb.shape)")
    var x = rgb.reshaped([1, 3, rgb.shape[1], rgb.shape[2]])
    x = relu(conv2d(x, weight: edges, bias: nil, padding: (1, 1)))
    x = avgPool2d(x, kernel: (2, 2))
    x = conv2d(x, weight: blur, bias: nil, padding: (1, 1), groups: 12)
    x = avgPool2d(avgPool2d(x, kernel: (2, 2)), kernel: (2, 2))
    return x.reshaped([12, x.shape[2], x.shape[3]])
  }
}
