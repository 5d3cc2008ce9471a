/// Limits a decoder checks before it allocates, so a small hostile file cannot make it
/// allocate or compute without bound.
public struct DecodeLimits: Sendable, Equatable {
  /// Most pixels in one image (width × height). Default 64 megapixels.
  public var maxPixels: Int = 64 * 1024 * 1024
  /// Longest allowed side, in pixels.
  public var maxSide: Int = 32_768
  /// Most bytes of decoded samples. Default 512 MiB (64 Mpx of 16-bit RGBA would be more).
  public var maxDecodedBytes: Int = 512 * 1024 * 1024
  /// Largest PNG ancillary chunk, in bytes. libpng 1.6.39 allocates whatever a chunk header
  /// claims, so chunk lengths are checked before libpng sees the file.
  public var maxAncillaryChunkBytes: Int = 8 * 1024 * 1024
  /// Most scans in a JPEG. Each progressive scan costs a pass over the whole image, and a
  /// small file can hold thousands of them.
  public var maxJPEGScans: Int = 100

  /// The default limits listed above.
  public init() {}
}

/// How an image is decoded.
public struct DecodeOptions: Sendable, Equatable {
  /// Rotate and mirror a JPEG as its EXIF orientation tag says (default on).
  public var applyExifOrientation = true
  /// Accept a damaged or truncated JPEG as libjpeg decodes it (missing parts grey) instead
  /// of failing. Off by default: libjpeg only warns about such files.
  public var acceptPartial = false
  /// Size limits checked before anything large is allocated.
  public var limits = DecodeLimits()

  /// Options with the defaults above unless given.
  public init(applyExifOrientation: Bool = true, acceptPartial: Bool = false, limits: DecodeLimits = DecodeLimits()) {
    self.applyExifOrientation = applyExifOrientation
    self.acceptPartial = acceptPartial
    self.limits = limits
  }
}
