import Foundation
import VALayers

/// The default model of `vit-attend`: one self-attention layer that needs no training.
///
/// Queries and keys are fixed, documented descriptors of each patch instead of learned
/// projections, so the map it draws is honest about what it is: a patch attends to the
/// patches that look like it. Each head compares a different descriptor:
/// - `appearance`: texture and colour, plus a weak 2D sin-cos position term;
/// - `colour`: windowed colour mean and spread only;
/// - `texture`: gradient-orientation histogram and edge energy only;
/// - `position`: 2D sin-cos positions only, a local blob like a convolution's window.
///
/// `logits[i, j] = (dᵢ · dⱼ) / τ`, `attention = softmax(logits)` over `j`, where each
/// descriptor `d` is the head's standardised features divided by √(feature count), so that
/// `dᵢ · dⱼ` is a correlation in −1…1 (Vaswani et al.'s `QKᵀ/√d` with `Q = K = D`).
/// Raw pixels would not do: two eyes never sit at the same offset inside their patches, and
/// their pixel vectors barely correlate; descriptors pooled over a Gaussian window do.
public struct DescriptorAttentionModel: Sendable {
  /// What each head compares.
  public enum Head: String, CaseIterable, Sendable {
    /// Texture and colour, plus a weak 2D sin-cos position term.
    case appearance
    /// Windowed colour mean and spread only.
    case colour
    /// Gradient-orientation histogram and edge energy only.
    case texture
    /// 2D sin-cos positions only: a local blob like a convolution's window.
    case position
  }

  /// Patch side in pixels.
  public var patchSize = 16
  /// Standard deviation of the descriptor window, in pixels (half a patch).
  public var windowSigma = 8.0
  /// Softmax temperature τ of the descriptor heads.
  public var temperature: Float = 0.3
  /// Weight of the position term in the `appearance` head.
  public var positionWeight: Float = 0.15
  /// Softmax temperature of the `position` head; smaller is more local.
  public var positionTemperature: Float = 0.05
  /// Channels of the 2D sin-cos position code.
  public var positionChannels = 32

  /// The model with the defaults above (16-pixel patches, τ = 0.3).
  public init() {}

  /// The heads in output order.
  public var heads: [Head] { Head.allCases }

  /// Attention of every head over the patches of one image.
  ///
  /// - Parameter rgb: planar `[3, height, width]` values in 0…1; width and height are
  ///   multiples of `patchSize` or are cropped down to them.
  /// - Returns: `[heads, N, N]` row-major (row = query patch, column = key patch), with
  ///   `N = (width / patchSize) · (height / patchSize)` patches in row-major order.
  public func attention(rgb: [Float], width: Int, height: Int) -> (gridWidth: Int, gridHeight: Int, weights: [Float]) {
    let descriptors = PatchDescriptors(
      rgb: rgb, width: width, height: height, patchSize: patchSize, windowSigma: windowSigma)
    let gw = descriptors.gridWidth, gh = descriptors.gridHeight, n = gw * gh
    let positions = SinCosPositionalEncoding.twoDimensional(
      gridWidth: gw, gridHeight: gh, dimension: positionChannels)
    var weights = [Float](repeating: 0, count: heads.count * n * n)
    for (h, head) in heads.enumerated() {
      let (vectors, width, scale) = headVectors(head, descriptors, positions, count: n)
      weights.withUnsafeMutableBufferPointer { out in
        let base = h * n * n
        for i in 0..<n {
          var rowMax = -Float.infinity
          for j in 0..<n {
            var dot: Float = 0
            for c in 0..<width { dot += vectors[i * width + c] * vectors[j * width + c] }
            out[base + i * n + j] = dot * scale
            rowMax = max(rowMax, dot * scale)
          }
          // Softmax with the row maximum subtracted for stability.
          var total: Float = 0
          for j in 0..<n {
            let e = exp(out[base + i * n + j] - rowMax)
            out[base + i * n + j] = e
            total += e
          }
          for j in 0..<n { out[base + i * n + j] /= total }
        }
      }
    }
    return (gw, gh, weights)
  }

  /// The 2D sin-cos position codes the heads use, `[N, positionChannels]`.
  public func positionCodes(gridWidth: Int, gridHeight: Int) -> [Float] {
    SinCosPositionalEncoding.twoDimensional(gridWidth: gridWidth, gridHeight: gridHeight, dimension: positionChannels)
  }

  /// The head's descriptor vectors `[N, width]` and the factor turning their dot products
  /// into logits.
  private func headVectors(
    _ head: Head, _ descriptors: PatchDescriptors, _ positions: [Float], count n: Int
  ) -> (vectors: [Float], width: Int, scale: Float) {
    let all = PatchDescriptors.featureCount
    let texture = 0..<PatchDescriptors.textureFeatures
    let colour = PatchDescriptors.textureFeatures..<all
    // A position code's self dot product is positionChannels / 2, so this makes it 1.
    let positionNorm = (Float(positionChannels) / 2).squareRoot()
    func build(_ features: Range<Int>, positionScale: Float) -> (vectors: [Float], width: Int) {
      let featureNorm = Float(features.count).squareRoot()
      let width = features.count + (positionScale > 0 ? positionChannels : 0)
      var vectors = [Float](repeating: 0, count: n * width)
      for p in 0..<n {
        for (c, f) in features.enumerated() { vectors[p * width + c] = descriptors.features[p * all + f] / featureNorm }
        if positionScale > 0 {
          for c in 0..<positionChannels {
            vectors[p * width + features.count + c] = positions[p * positionChannels + c] * positionScale / positionNorm
          }
        }
      }
      return (vectors, width)
    }
    switch head {
    case .appearance:
      let (v, w) = build(0..<all, positionScale: positionWeight.squareRoot())
      return (v, w, 1 / temperature)
    case .colour:
      let (v, w) = build(colour, positionScale: 0)
      return (v, w, 1 / temperature)
    case .texture:
      let (v, w) = build(texture, positionScale: 0)
      return (v, w, 1 / temperature)
    case .position:
      let (v, w) = build(0..<0, positionScale: 1)
      return (v, w, 1 / positionTemperature)
    }
  }
}
