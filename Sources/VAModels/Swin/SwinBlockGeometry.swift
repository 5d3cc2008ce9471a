/// Where one Swin block's windows lie: its stage, the feature map it attends over, its window
/// and cyclic shift, and the padding that makes the map a multiple of the window. Enough to map
/// a row of the block's attention `[windows, heads, N, N]` back to feature-map cells, and from
/// there to input pixels (a cell covers `patchSize · 2^stage` pixels a side).
///
/// Windows are numbered row-major over the shifted, padded map (`windowsAcross` per row), and
/// tokens row-major within a window, as timm's and transformers' `window_partition` order them.
/// Reference: Liu et al. 2021 §3.2 (shifted windows, the cyclic shift and its mask).
public struct SwinBlockGeometry: Sendable, Equatable {
  /// The block's index counted through all stages from 0 (`attn.{l}`).
  public var block: Int
  /// The stage the block belongs to.
  public var stage: Int
  /// Rows of the feature map.
  public var height: Int
  /// Columns of the feature map.
  public var width: Int
  /// Window rows (the configured window, clamped to the map by the window policy).
  public var windowHeight: Int
  /// Window columns.
  public var windowWidth: Int
  /// The cyclic shift along rows: the map is rolled up by this many cells before partitioning.
  public var shiftY: Int
  /// The cyclic shift along columns (rolled left).
  public var shiftX: Int
  /// Whether the map is padded before it is rolled (transformers) or after (timm).
  public var padsBeforeShift: Bool

  /// Rows after padding to a multiple of the window.
  public var paddedHeight: Int { (height + windowHeight - 1) / windowHeight * windowHeight }
  /// Columns after padding to a multiple of the window.
  public var paddedWidth: Int { (width + windowWidth - 1) / windowWidth * windowWidth }
  /// Windows per row of the padded map.
  public var windowsAcross: Int { paddedWidth / windowWidth }
  /// Windows in all, `[windows]` of the attention.
  public var windowCount: Int { paddedHeight / windowHeight * windowsAcross }
  /// Tokens per window, `N`.
  public var tokensPerWindow: Int { windowHeight * windowWidth }
  /// Whether the block shifts its windows (and masks them).
  public var isShifted: Bool { shiftY > 0 || shiftX > 0 }

  /// For each window slot (`window · N + token`), the feature-map cell `y · width + x` it reads,
  /// or nil for padding. The cell a slot reads is where the slot sits in the unshifted map.
  /// O(windows · N).
  public func sourceCells() -> [Int?] {
    var out = [Int?](repeating: nil, count: windowCount * tokensPerWindow)
    let (hp, wp) = (paddedHeight, paddedWidth)
    for slot in out.indices {
      let window = slot / tokensPerWindow, token = slot % tokensPerWindow
      let y = window / windowsAcross * windowHeight + token / windowWidth
      let x = window % windowsAcross * windowWidth + token % windowWidth
      // torch.roll(x, -s) puts cell (y + s) mod extent at y.
      if padsBeforeShift {
        let sy = (y + shiftY) % hp, sx = (x + shiftX) % wp
        if sy < height && sx < width { out[slot] = sy * width + sx }
      } else if y < height && x < width {
        out[slot] = (y + shiftY) % height * width + (x + shiftX) % width
      }
    }
    return out
  }

  /// The shift mask `[windows, N, N]`: 0 where query and key come from the same region of the
  /// rolled map, −100 where the roll brought them together from opposite edges (timm's and
  /// transformers' value, not −∞: their softmax gives such keys `exp(−100)`-small weights).
  /// Regions per axis are `[0, P − window)`, `[P − window, P − shift)`, `[P − shift, P)` of
  /// the padded extent `P`; an axis without shift is one region. Nil when the block is not shifted.
  public func shiftMask() -> [Float]? {
    guard isShifted else { return nil }
    func region(_ i: Int, extent: Int, window: Int, shift: Int) -> Int {
      shift == 0 ? 0 : (i >= extent - window ? 1 : 0) + (i >= extent - shift ? 1 : 0)
    }
    let n = tokensPerWindow
    var labels = [Int](repeating: 0, count: windowCount * n)
    for slot in labels.indices {
      let window = slot / n, token = slot % n
      let y = window / windowsAcross * windowHeight + token / windowWidth
      let x = window % windowsAcross * windowWidth + token % windowWidth
      labels[slot] =
        region(y, extent: paddedHeight, window: windowHeight, shift: shiftY) * 3
        + region(x, extent: paddedWidth, window: windowWidth, shift: shiftX)
    }
    var mask = [Float](repeating: 0, count: windowCount * n * n)
    for w in 0..<windowCount {
      for i in 0..<n {
        for j in 0..<n where labels[w * n + i] != labels[w * n + j] { mask[(w * n + i) * n + j] = -100 }
      }
    }
    return mask
  }
}

extension SwinConfiguration {
  /// Every block's geometry for an input whose patch grid is `gridHeight × gridWidth`, in
  /// order through the stages. Each stage after the first works on `⌈H/2⌉ × ⌈W/2⌉` of the
  /// previous (patch merging pads odd maps). Shifts are half the window on odd blocks of a stage.
  public func geometry(gridHeight: Int, gridWidth: Int) -> [SwinBlockGeometry] {
    var out: [SwinBlockGeometry] = []
    var (h, w) = (gridHeight, gridWidth)
    for stage in 0..<stageCount {
      if stage > 0 { (h, w) = ((h + 1) / 2, (w + 1) / 2) }
      let window = windows[stage]
      for i in 0..<depths[stage] {
        let shift = i % 2 == 1 ? window / 2 : 0
        var g = SwinBlockGeometry(
          block: out.count, stage: stage, height: h, width: w, windowHeight: window, windowWidth: window,
          shiftY: shift, shiftX: shift, padsBeforeShift: windowPolicy != .timm)
        switch windowPolicy {
        case .timm:
          // _calc_window_shift: per axis, r <= w gives window r and no shift.
          if h <= window { (g.windowHeight, g.shiftY) = (h, 0) }
          if w <= window { (g.windowWidth, g.shiftX) = (w, 0) }
        case .huggingFace:
          if min(h, w) <= window { (g.windowHeight, g.windowWidth, g.shiftY, g.shiftX) = (min(h, w), min(h, w), 0, 0) }
        case .huggingFaceV2(let imageSize):
          // Swinv2Layer keeps the first axis of input_resolution = (grid // 2^i, …) from the config.
          let r = imageSize / patchSize / (1 << stage)
          if r <= window { (g.windowHeight, g.windowWidth, g.shiftY, g.shiftX) = (r, r, 0, 0) }
        }
        out.append(g)
      }
    }
    return out
  }
}
