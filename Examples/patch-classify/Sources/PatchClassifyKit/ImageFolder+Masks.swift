import Foundation
import VAImageIO

extension ImageFolder {
  /// `data` (images `load` or `loadSplit` read from under `root` at `size`) with each
  /// image's object mask from `maskRoot`: for `root/<rel>/<name>.<ext>`, the file
  /// `maskRoot/<rel>/<name>.png`.
  ///
  /// Only the images in `data` need masks: a training run asks for its validation images'
  /// (the ones the pointing game scores), so a folder's training images need none.
  /// - Throws: `DatasetError.missingMask` or `.maskSizeDiffers` naming the mask file, or
  ///   `.unreadableImage` for a mask (or its image) that does not decode; no image is skipped.
  /// - Complexity: decodes each image a second time for its original size (the loaded
  ///   images are already resized), and each mask once.
  public static func withMasks(_ data: LabeledImages, root: String, maskRoot: String, size: Int) throws(DatasetError) -> LabeledImages {
    var masks: [[Bool]] = []
    masks.reserveCapacity(data.count)
    for source in data.sources {
      let relative = relativePath(of: source, under: root)
      let maskPath = join(maskRoot, ((relative as NSString).deletingPathExtension as NSString).appendingPathExtension("png") ?? relative)
      guard FileManager.default.fileExists(atPath: maskPath) else { throw .missingMask(path: maskPath, image: source) }
      let original: Image
      do { original = try Image(contentsOfFile: source) } catch { throw .unreadableImage(path: source, reason: error.description) }
      masks.append(try mask(atPath: maskPath, image: source, width: original.width, height: original.height, size: size))
    }
    var out = data
    out.masks = masks
    return out
  }

  /// The binary mask at `path` for an image of `width × height` (the file's size must be
  /// exactly that: the image as displayed, EXIF orientation applied, while the mask's own
  /// EXIF tag is ignored), brought to `size × size` exactly as `squareCrop` brings the image:
  /// shorter side to `size`, centre crop.
  ///
  /// A pixel is object where its grey value is non-zero: 8-bit grey as is, RGB converted to
  /// grey (Rec. 601 luma in floating point, so any non-zero channel counts), and with an
  /// alpha channel the grey value times alpha (a transparent pixel is background). When the
  /// image is resized, the 0/255 mask is resized with the image's own filter (bilinear,
  /// antialiased when shrinking) and **thresholded at one half**: an output pixel is object
  /// when at least half of its filter's weight falls on object pixels, as ShapeWorld's masks
  /// mark a pixel the object covers at least half of.
  /// - Returns: `size * size` row-major flags.
  /// - Throws: `.unreadableImage` (the mask's path) or `.maskSizeDiffers`.
  public static func mask(atPath path: String, image: String, width: Int, height: Int, size: Int) throws(DatasetError) -> [Bool] {
    let file: Image
    // Masks are pixel maps, not photos: an EXIF rotation would move them off their image.
    do { file = try Image(contentsOfFile: path, options: DecodeOptions(applyExifOrientation: false)) } catch {
      throw .unreadableImage(path: path, reason: error.description)
    }
    guard file.width == width, file.height == height else {
      throw .maskSizeDiffers(path: path, mask: [file.width, file.height], image: image, imageSize: [width, height])
    }
    let binary = Image(width: width, height: height, channels: 1, pixels: objectPixels(file).map { $0 ? 255 : 0 })
    return squareCrop(binary, size: size).pixels.map { $0 >= 128 }
  }

  /// Per pixel, whether `image` marks it as object (see `mask(atPath:…)`).
  static func objectPixels(_ image: Image) -> [Bool] {
    let c = image.channels, p = image.pixels
    return (0..<(image.width * image.height)).map { i in
      let grey: Float = c <= 2 ? Float(p[i * c]) : 0.299 * Float(p[i * c]) + 0.587 * Float(p[i * c + 1]) + 0.114 * Float(p[i * c + 2])
      let alpha: Float = c == 2 || c == 4 ? Float(p[i * c + c - 1]) : 255
      return grey * alpha > 0
    }
  }

  /// `source`'s path below `root` (sources are `root` with components appended, so the
  /// prefix is exact; a trailing slash on `root` is not part of it).
  static func relativePath(of source: String, under root: String) -> String {
    var prefix = root
    while prefix.count > 1 && prefix.hasSuffix("/") { prefix.removeLast() }
    if prefix == "/" { return String(source.dropFirst()) }
    return source.hasPrefix(prefix + "/") ? String(source.dropFirst(prefix.count + 1)) : (source as NSString).lastPathComponent
  }
}
