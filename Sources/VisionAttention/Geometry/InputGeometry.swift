/// How an input image becomes the model's pixel grid, and how to map points back.
///
/// The image is scaled by `scale` to `resizedWidth × resizedHeight`, then centre-cropped to
/// `width × height`, the largest multiple of the patch size that fits (a NaFlex model's
/// processor instead resizes each axis to whole patches, no crop: see
/// `init(originalWidth:originalHeight:patchSize:maximumPatches:)`). Queries given in the
/// input file's own pixels map through the same steps, so `--query` never depends on the
/// resizing policy.
///
/// An image that the policy would leave smaller than one patch on a side (a 4×4 icon for the
/// built-in model, which enlarges at most twice, or any image under `--resize none`) is
/// instead enlarged by the smallest whole factor that gives every side at least one patch,
/// nearest neighbour (`enlargement`), so every valid image gets a figure.
public struct InputGeometry: Equatable, Sendable {
  /// The input file's size.
  public let originalWidth: Int
  /// The input file's height in pixels (`originalWidth` its width).
  public let originalHeight: Int
  /// Factor from original pixels to resized pixels (horizontally, when the axes differ).
  public let scale: Double
  /// Factor from original rows to resized rows: `scale`, except for a NaFlex resize
  /// (`init(originalWidth:originalHeight:patchSize:maximumPatches:)`), whose sides are rounded
  /// to whole patches each on its own.
  public let verticalScale: Double
  /// The whole factor a too-small image was enlarged by, nearest neighbour, instead of the
  /// resizing policy (then `scale` equals it); nil when the policy's size held a patch.
  public let enlargement: Int?
  /// Width after scaling by `scale` (or enlarging), before the crop.
  public let resizedWidth: Int
  /// Height after scaling by `scale` (or enlarging), before the crop.
  public let resizedHeight: Int
  /// Top-left of the crop inside the resized image.
  public let cropX: Int
  /// Top of the crop inside the resized image (`cropX` its left).
  public let cropY: Int
  /// The model's input size: a multiple of `patchSize` in both directions.
  public let width: Int
  /// The model's input height: a multiple of `patchSize`.
  public let height: Int
  /// The model's patch side in pixels.
  public let patchSize: Int

  /// The longest side a too-small image may be enlarged to: the decoder's default limit.
  public static let longestEnlargedSide = 32_768

  /// Patches per row: `width / patchSize`.
  public var gridWidth: Int { width / patchSize }
  /// Patch rows: `height / patchSize`.
  public var gridHeight: Int { height / patchSize }

  /// Plans the geometry.
  /// - Parameters:
  ///   - originalWidth: the input file's width in pixels.
  ///   - originalHeight: the input file's height in pixels.
  ///   - patchSize: the model's patch side in pixels.
  ///   - longerSide: target length of the longer side, or nil to keep the image's own size.
  ///   - maximumUpscale: the most the image may be enlarged (nil: no limit); a smaller image
  ///     is fitted to this multiple of its size instead of `longerSide`.
  /// - Throws: `VisionAttentionError.imageTooSmall` for an empty image, or one so thin that a
  ///   patch across its shorter side makes the longer side over `longestEnlargedSide`.
  public init(originalWidth: Int, originalHeight: Int, patchSize: Int, longerSide: Int?, maximumUpscale: Double? = nil) throws(VisionAttentionError) {
    self.originalWidth = originalWidth
    self.originalHeight = originalHeight
    self.patchSize = patchSize
    var longerSide = longerSide
    if let target = longerSide, let limit = maximumUpscale {
      longerSide = min(target, Int((Double(max(originalWidth, originalHeight)) * limit).rounded(.down)))
    }
    var (scale, resizedWidth, resizedHeight) = (1.0, originalWidth, originalHeight)
    if let longerSide, longerSide != max(originalWidth, originalHeight) {
      scale = Double(longerSide) / Double(max(originalWidth, originalHeight))
      resizedWidth = max(1, Int((Double(originalWidth) * scale).rounded()))
      resizedHeight = max(1, Int((Double(originalHeight) * scale).rounded()))
    }
    var enlargement: Int?
    if resizedWidth < patchSize || resizedHeight < patchSize {
      // Smoothing filters would only blur a few pixels into a patch: repeat each pixel.
      let shorter = min(originalWidth, originalHeight), longer = max(originalWidth, originalHeight)
      let factor = shorter > 0 ? (patchSize + shorter - 1) / shorter : 0
      // A sliver (1×30000) would need a strip too long to attend over: refused, as the
      // decoder refuses a side over 32,768 pixels.
      guard factor > 0, longer * factor <= Self.longestEnlargedSide else {
        throw .imageTooSmall(width: originalWidth, height: originalHeight, patchSize: patchSize)
      }
      (scale, resizedWidth, resizedHeight) = (Double(factor), originalWidth * factor, originalHeight * factor)
      enlargement = factor
    }
    self.enlargement = enlargement
    self.scale = scale
    verticalScale = scale
    self.resizedWidth = resizedWidth
    self.resizedHeight = resizedHeight
    width = resizedWidth - resizedWidth % patchSize
    height = resizedHeight - resizedHeight % patchSize
    cropX = (resizedWidth - width) / 2
    cropY = (resizedHeight - height) / 2
  }

  /// The model-input pixel under an original-image point (continuous coordinates).
  public func modelPoint(x: Double, y: Double) -> (x: Double, y: Double) {
    (x * scale - Double(cropX), y * verticalScale - Double(cropY))
  }

  /// The original-image point under a model-input pixel.
  public func originalPoint(x: Double, y: Double) -> (x: Double, y: Double) {
    ((x + Double(cropX)) / scale, (y + Double(cropY)) / verticalScale)
  }

  /// The original-image pixels whose centres land inside the model input along one axis:
  /// those outside lie in a strip that cropping removes.
  public func queryable(horizontal: Bool) -> ClosedRange<Int>? {
    let size = horizontal ? originalWidth : originalHeight, limit = horizontal ? width : height
    let kept = (0..<size).filter { p in
      let m = horizontal ? modelPoint(x: Double(p) + 0.5, y: 0).x : modelPoint(x: 0, y: Double(p) + 0.5).y
      return m >= 0 && m < Double(limit)
    }
    guard let first = kept.first, let last = kept.last else { return nil }
    return first...last
  }

  /// Refuses a query pixel in a strip that cropping removes, naming the crop.
  /// - Throws: `VisionAttentionError.queryInCroppedStrip`.
  public func checkQueryable(x: Int, y: Int) throws(VisionAttentionError) {
    guard let xs = queryable(horizontal: true), let ys = queryable(horizontal: false) else { return }
    guard xs.contains(x), ys.contains(y) else {
      let resized = scale == 1 && verticalScale == 1 ? "" : " resized to \(resizedWidth)x\(resizedHeight)"
      throw .queryInCroppedStrip(x: x, y: y, keptX: xs, keptY: ys, crop: "the image\(resized) is cropped to \(width)x\(height), a multiple of the \(patchSize)-pixel patch")
    }
  }

  /// `query` (nil: the image centre) as a pixel of the input file, checked against the image
  /// and its crop, and the patch under it: what a scene shows and what `AttentionPlan` keeps
  /// rows for, decided before the model runs.
  /// - Throws: `VisionAttentionError.queryOutsideImage` or `.queryInCroppedStrip`.
  public func resolveQuery(_ query: QueryPoint?) throws(VisionAttentionError) -> (pixel: (x: Int, y: Int), patch: (column: Int, row: Int)) {
    let asked = query ?? QueryPoint(x: .fraction(0.5), y: .fraction(0.5))
    let pixel = try asked.resolved(width: originalWidth, height: originalHeight)
    try checkQueryable(x: pixel.x, y: pixel.y)
    return (pixel, patch(atOriginalX: pixel.x, y: pixel.y))
  }

  /// The patch (column, row) under an original-image pixel, clamped into the grid (a query
  /// in the cropped margin is refused before this by `checkQueryable`).
  public func patch(atOriginalX x: Int, y: Int) -> (column: Int, row: Int) {
    // Pixel centres: pixel (x, y) covers [x, x+1) × [y, y+1).
    let p = modelPoint(x: Double(x) + 0.5, y: Double(y) + 0.5)
    let column = Int((p.x / Double(patchSize)).rounded(.down))
    let row = Int((p.y / Double(patchSize)).rounded(.down))
    return (min(max(column, 0), gridWidth - 1), min(max(row, 0), gridHeight - 1))
  }

  /// The patch holding `map`'s largest value (the first, on ties; `excluded` left out), and
  /// its centre in the input file's pixels. `map` is `[gridHeight · gridWidth]` row-major.
  public func peak(
    of map: [Float], excluding excluded: (column: Int, row: Int)? = nil
  ) -> (column: Int, row: Int, x: Double, y: Double, value: Float) {
    precondition(map.count == gridWidth * gridHeight, "a map has \(gridWidth * gridHeight) values, got \(map.count)")
    let skip = excluded.map { $0.row * gridWidth + $0.column }
    var best = skip == 0 && map.count > 1 ? 1 : 0
    for index in map.indices where index != skip && map[index] > map[best] { best = index }
    let column = best % gridWidth, row = best / gridWidth
    let p = Double(patchSize)
    let centre = originalPoint(x: (Double(column) + 0.5) * p, y: (Double(row) + 0.5) * p)
    return (column, row, centre.x, centre.y, map[best])
  }

  /// Plans a NaFlex resize (Hugging Face's `Siglip2ImageProcessor`): the image is resized,
  /// aspect ratio kept, to the largest size with at most `maximumPatches` patches, both sides
  /// multiples of the patch size (`sizeForMaximumPatches`), with no crop.
  public init(originalWidth: Int, originalHeight: Int, patchSize: Int, maximumPatches: Int) throws(VisionAttentionError) {
    guard originalWidth > 0, originalHeight > 0 else {
      throw .imageTooSmall(width: originalWidth, height: originalHeight, patchSize: patchSize)
    }
    let (height, width) = Self.sizeForMaximumPatches(height: originalHeight, width: originalWidth, patchSize: patchSize, maximumPatches: maximumPatches)
    self.originalWidth = originalWidth
    self.originalHeight = originalHeight
    self.patchSize = patchSize
    enlargement = nil
    scale = Double(width) / Double(originalWidth)
    verticalScale = Double(height) / Double(originalHeight)
    (resizedWidth, resizedHeight, self.width, self.height, cropX, cropY) = (width, height, width, height, 0, 0)
  }

  /// transformers' `get_image_size_for_max_num_patches` (5.25), step for step: a bisection on
  /// the scale in [1e-6, 100] until the interval is under 1e-5, each side `ceil(side · scale / P) · P`
  /// (at least `P`), keeping the largest scale whose patches number at most `maximumPatches`.
  /// - Returns: (height, width) in pixels.
  public static func sizeForMaximumPatches(height: Int, width: Int, patchSize p: Int, maximumPatches: Int) -> (height: Int, width: Int) {
    func scaled(_ scale: Double, _ size: Int) -> Int {
      max(p, Int((Double(size) * scale / Double(p)).rounded(.up)) * p)
    }
    let eps = 1e-5
    var (low, high) = (eps / 10, 100.0)
    while high - low >= eps {
      let scale = (low + high) / 2
      let patches = (Double(scaled(scale, height)) / Double(p)) * (Double(scaled(scale, width)) / Double(p))
      if patches <= Double(maximumPatches) { low = scale } else { high = scale }
    }
    return (scaled(low, height), scaled(low, width))
  }
}
