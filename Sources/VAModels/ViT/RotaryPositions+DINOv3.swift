import Foundation
import VALayers

extension RotaryPositions {
  /// Where a rotary embedding's coordinates and frequencies come from.
  public enum Scheme: String, Sendable, Equatable {
    /// EVA-02's: integer patch indices (optionally rescaled to a reference grid), frequencies
    /// `1 / temperature^(k / (d/4))`, the interleaved channel layout.
    case eva
    /// DINOv3's as timm builds it (`RotaryEmbeddingDinoV3`): periods
    /// `temperature^(2k / (d/2))`, angles `2π · coordinate / period`, rotate-half layout.
    case dinov3Timm = "dinov3_timm"
    /// DINOv3's as transformers builds it (`DINOv3ViTRopePositionEmbedding`): the same angles,
    /// computed as `2π · coordinate · inv_freq` with `inv_freq = 1 / base^arange(0, 1, 4/d)`.
    case dinov3HuggingFace = "dinov3_hf"
  }

  /// timm's DINOv3 settings for `rope_temperature` (100 in every `vit_*_dinov3` name).
  public static func dinov3(temperature: Float = 100, huggingFace: Bool = false) -> RotaryPositions {
    var positions = RotaryPositions(temperature: temperature)
    positions.scheme = huggingFace ? .dinov3HuggingFace : .dinov3Timm
    return positions
  }

  /// DINOv3's cos / sin tables `[N, d]` for a `gh × gw` grid, in float32 as the libraries
  /// compute them (eval mode: no coordinate shift, jitter or rescale).
  ///
  /// A patch at row `y`, column `x` has the centred coordinates
  /// `(2 · (y + 0.5 + offset) / gh − 1, 2 · (x + 0.5 + offset) / gw − 1)`, each axis normalised by
  /// its own size (timm's `normalize_coords='separate'`). Each head's `d` channels hold `d/4`
  /// angles for the row coordinate, then `d/4` for the column, and the same `d/2` again: the
  /// rotate-half layout, channel `i` turning with `i + d/2`.
  /// Reference: timm 1.0.31 `RotaryEmbeddingDinoV3._get_pos_embed_from_coords` and
  /// `_build_grid(grid_type='centered')`; transformers 5.25 `DINOv3ViTRopePositionEmbedding`.
  func dinov3Embedding(gridWidth gw: Int, gridHeight gh: Int, headDimension d: Int, prefixTokens: Int) -> RotaryEmbedding {
    let bands = d / 4
    let twoPi = Float(2 * Double.pi)  // math.pi, rounded once to float32 by torch
    // timm: exponents = 2 · arange(bands) / (d // 2) in float32, periods = temperature ** exponents.
    let periods = (0..<bands).map { k -> Float in Foundation.pow(temperature, 2 * Float(k) / Float(d / 2)) }
    // transformers: inv_freq = 1 / base ** arange(0, 1, 4 / d), the steps k · (4/d) in double.
    let inverseFrequencies = (0..<bands).map { k -> Float in 1 / Foundation.pow(temperature, Float(Double(k) * (4 / Double(d)))) }
    func centred(_ i: Int, size: Int) -> Float {
      // arange(0.5, s) + offset, / s, then 2x − 1, each step in float32.
      2 * ((Float(i) + 0.5 + gridOffset) / Float(size)) - 1
    }
    var cos = [Float](repeating: 0, count: gw * gh * d), sin = cos
    for y in 0..<gh {
      for x in 0..<gw {
        let row = (y * gw + x) * d
        for (axis, position) in [centred(y, size: gh), centred(x, size: gw)].enumerated() {
          for k in 0..<bands {
            let angle = scheme == .dinov3HuggingFace ? twoPi * position * inverseFrequencies[k] : twoPi * position / periods[k]
            let channel = row + axis * bands + k
            cos[channel] = Foundation.cos(angle)
            sin[channel] = Foundation.sin(angle)
            cos[channel + d / 2] = cos[channel]
            sin[channel + d / 2] = sin[channel]
          }
        }
      }
    }
    return RotaryEmbedding(cos: cos, sin: sin, headDimension: d, prefixTokens: prefixTokens, rotateHalf: true)
  }
}
