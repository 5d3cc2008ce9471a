import Foundation
import VALayers

/// EVA-02's 2D rotary position embedding settings (timm's `RotaryEmbeddingCat` with
/// `in_pixels=False`, the "cat" rope type `Eva` builds).
///
/// A patch at row `y`, column `x` of a `gh × gw` grid has coordinates
/// `(y / gh · refH, x / gw · refW)` when a reference grid is given (EVA's rescaling to the
/// pretraining grid; `(y, x)` + offset otherwise); each head's `d` channels are `d/4`
/// frequencies `1 / temperature^(k / (d/4))` for the row coordinate, then `d/4` for the column
/// coordinate (column first with `columnsFirst`, timm's "xy" indexing of its RoPE ViTs and
/// Perception Encoder), each angle repeated for its channel pair. Learned per-block frequencies
/// (`learnedFrequencies`, timm's mixed RoPE) are built in `RotaryPositions+Mixed.swift`.
public struct RotaryPositions: Sendable, Equatable {
  /// The frequency base (timm's `rope_temperature`, 10,000 as in RoPE).
  public var temperature: Float = 10_000
  /// Rows of the pretraining grid positions are rescaled to (EVA's `ref_feat_shape`), or nil.
  public var referenceHeight: Int?
  /// Columns of the pretraining grid, or nil.
  public var referenceWidth: Int?
  /// Added to each row and column index before any rescaling (timm's `rope_grid_offset`).
  public var gridOffset: Float = 0
  /// timm's `rope_grid_indexing = "xy"` (its RoPE ViTs, Perception Encoder): each head's first
  /// `d/4` frequencies turn with the column coordinate, the next with the row ("ij": row first).
  public var columnsFirst = false
  /// timm's `rope_type = "mixed"`: every block and head has learned frequencies
  /// (`VisionTransformer.rotaryFrequencies`, `RotaryPositions+Mixed.swift`) in place of the
  /// fixed bands; offset and reference grid do not apply.
  public var learnedFrequencies = false
  /// How coordinates and frequencies are made: EVA-02's, or DINOv3's (RotaryPositions+DINOv3).
  public var scheme = Scheme.eva

  /// Settings; the defaults are timm's for EVA-02 without rescaling.
  public init(temperature: Float = 10_000, referenceHeight: Int? = nil, referenceWidth: Int? = nil, gridOffset: Float = 0) {
    self.temperature = temperature
    self.referenceHeight = referenceHeight
    self.referenceWidth = referenceWidth
    self.gridOffset = gridOffset
  }

  /// The cos / sin tables `[N, d]` for a grid, in float32 as timm computes them.
  public func embedding(gridWidth gw: Int, gridHeight gh: Int, headDimension d: Int, prefixTokens: Int) -> RotaryEmbedding {
    if scheme != .eva { return dinov3Embedding(gridWidth: gw, gridHeight: gh, headDimension: d, prefixTokens: prefixTokens) }
    let bands = d / 4
    // freq_bands(step=1): exponents k / bands in float32, then 1 / temperature^exponent.
    let frequencies = (0..<bands).map { k -> Float in 1 / Foundation.pow(temperature, Float(k) / Float(bands)) }
    func coordinate(_ i: Int, size: Int, reference: Int?) -> Float {
      let t = Float(i) + gridOffset
      guard let reference else { return t }
      return t / Float(size) * Float(reference)
    }
    var cos = [Float](repeating: 0, count: gw * gh * d), sin = cos
    for y in 0..<gh {
      for x in 0..<gw {
        let row = (y * gw + x) * d
        var coordinates = [coordinate(y, size: gh, reference: referenceHeight), coordinate(x, size: gw, reference: referenceWidth)]
        if columnsFirst { coordinates.reverse() }
        for (axis, position) in coordinates.enumerated() {
          for (k, frequency) in frequencies.enumerated() {
            let angle = position * frequency
            let channel = row + 2 * (axis * bands + k)
            cos[channel] = Foundation.cos(angle)
            sin[channel] = Foundation.sin(angle)
            cos[channel + 1] = cos[channel]
            sin[channel + 1] = sin[channel]
          }
        }
      }
    }
    return RotaryEmbedding(cos: cos, sin: sin, headDimension: d, prefixTokens: prefixTokens)
  }
}
