/// How an input image becomes the model's pixel grid, and how to map points back.
///
/// The image is scaled by `scale` to `resizedWidth × resizedHeight`, then centre-cropped to
/// `width × height`, the largest multiple of the patch size that fits. Queries given in the
/// input file's own pixels map through the same steps, so `--query` never depends on the
/// resizing policy.
public struct InputGeometry: Equatable, Sendable {
  /// The input file's size.
  public let originalWidth: Int
  public let originalHeight: Int
  /// Factor from original pixels to resized pixels.
  public let scale: Double
  public let resizedWidth: Int
  public let resizedHeight: Int
  /// Top-left of the crop inside the resized image.
  public let cropX: Int
  public let cropY: Int
  /// The model's input size: a multiple of `patchSize` in both directions.
  public let width: Int
  public let height: Int
  public let patchSize: Int

  public var gridWidth: Int { width / patchSize }
  public var gridHeight: Int { height / patchSize }

  /// Plans the geometry.
  /// - Parameters:
  ///   - originalWidth: the input file's width in pixels.
  ///   - originalHeight: the input file's height in pixels.
  ///   - patchSize: the model's patch side in pixels.
  ///   - longerSide: target length of the longer side, or nil to keep the image's own size.
  /// - Throws: `VitAttendError.imageTooSmall` when not even one patch fits.
  public init(originalWidth: Int, originalHeight: Int, patchSize: Int, longerSide: Int?) throws(VitAttendError) {
    self.originalWidth = originalWidth
    self.originalHeight = originalHeight
    self.patchSize = patchSize
    if let longerSide, longerSide != max(originalWidth, originalHeight) {
      scale = Double(longerSide) / Double(max(originalWidth, originalHeight))
      resizedWidth = max(1, Int((Double(originalWidth) * scale).rounded()))
      resizedHeight = max(1, Int((Double(originalHeight) * scale).rounded()))
    } else {
      scale = 1
      resizedWidth = originalWidth
      resizedHeight = originalHeight
    }
    width = resizedWidth - resizedWidth % patchSize
    height = resizedHeight - resizedHeight % patchSize
    guard width > 0, height > 0 else {
      throw .imageTooSmall(width: resizedWidth, height: resizedHeight, patchSize: patchSize)
    }
    cropX = (resizedWidth - width) / 2
    cropY = (resizedHeight - height) / 2
  }

  /// The model-input pixel under an original-image point (continuous coordinates).
  public func modelPoint(x: Double, y: Double) -> (x: Double, y: Double) {
    (x * scale - Double(cropX), y * scale - Double(cropY))
  }

  /// The original-image point under a model-input pixel.
  public func originalPoint(x: Double, y: Double) -> (x: Double, y: Double) {
    ((x + Double(cropX)) / scale, (y + Double(cropY)) / scale)
  }

  /// The patch (column, row) under an original-image pixel, clamped into the grid so a query
  /// in the cropped margin picks the nearest patch.
  public func patch(atOriginalX x: Int, y: Int) -> (column: Int, row: Int) {
    // Pixel centres: pixel (x, y) covers [x, x+1) × [y, y+1).
    let p = modelPoint(x: Double(x) + 0.5, y: Double(y) + 0.5)
    let column = Int((p.x / Double(patchSize)).rounded(.down))
    let row = Int((p.y / Double(patchSize)).rounded(.down))
    return (min(max(column, 0), gridWidth - 1), min(max(row, 0), gridHeight - 1))
  }
}
