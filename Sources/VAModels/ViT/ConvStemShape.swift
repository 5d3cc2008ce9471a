import VALayers
import VATensorCore

/// The shape of a convolutional stem that replaces the ViT's patchify layer (Xiao et al.
/// 2021, "Early Convolutions Help Transformers See Better"): `3 × 3` convolutions with
/// BatchNorm and ReLU, then a `1 × 1` convolution to the embedding width. Its total stride is
/// the model's patch size, so token `(r, c)` still stands for the image cell
/// `[r·P, (r+1)·P) × [c·P, (c+1)·P)` (the cell its receptive field is centred on).
///
/// It is timm's `ConvStem` (`timm.models.vision_transformer_hybrid`) with
/// `channels = hiddenChannels + [D]`, `kernel_size = kernels + [1]`, `stride = strides + [1]`,
/// inside a `HybridEmbed(proj=False)`: the same weights load there.
public struct ConvStemShape: Sendable, Equatable, Codable {
  /// Output channels of the normalised, activated convolutions, in order.
  public var hiddenChannels: [Int]
  /// Kernel side of each of those convolutions (3 in Xiao et al.).
  public var kernels: [Int]
  /// Stride of each of those convolutions; their product is the patch size.
  public var strides: [Int]

  /// A stem shape; a precondition checks that the three lists are non-empty and equally long.
  public init(hiddenChannels: [Int], kernels: [Int], strides: [Int]) {
    precondition(
      !hiddenChannels.isEmpty && hiddenChannels.count == kernels.count && kernels.count == strides.count,
      "a conv stem needs as many kernels and strides as channels")
    self.hiddenChannels = hiddenChannels
    self.kernels = kernels
    self.strides = strides
  }

  /// `log2(patchSize)` `3 × 3` convolutions at stride 2 whose widths double up to `width`
  /// (`[32, 64, 128]` for patch 8 and width 128), then `refining` more `3 × 3` convolutions
  /// at stride 1 and full width, or nil when the patch side is no power of 2.
  public static func strided(patchSize: Int, width: Int, refining: Int = 0) -> ConvStemShape? {
    var strides: [Int] = [], remaining = patchSize
    while remaining > 1 {
      guard remaining % 2 == 0 else { return nil }
      strides.append(2)
      remaining /= 2
    }
    guard !strides.isEmpty, refining >= 0 else { return nil }
    let n = strides.count
    let channels = (0..<n).map { i in max(8, width >> (n - 1 - i)) } + Array(repeating: width, count: refining)
    return ConvStemShape(hiddenChannels: channels, kernels: Array(repeating: 3, count: n + refining), strides: strides + Array(repeating: 1, count: refining))
  }

  /// Product of the strides: the side of the image cell one token stands for.
  public var totalStride: Int { strides.reduce(1, *) }

  /// timm's padding for a symmetric convolution: `((stride − 1) + (kernel − 1)) / 2`.
  static func padding(kernel: Int, stride: Int) -> Int { ((stride - 1) + (kernel - 1)) / 2 }

  /// Parameters the stem holds, the last `1 × 1` projection to `width` included.
  public func parameterCount(width: Int) -> Int {
    var total = 0, inputs = 3
    for (c, k) in zip(hiddenChannels, kernels) {
      total += c * inputs * k * k + 2 * c  // conv without bias, BN's affine terms
      inputs = c
    }
    return total + width * inputs + width
  }
}
