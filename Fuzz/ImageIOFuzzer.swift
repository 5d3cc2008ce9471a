// libFuzzer entry point for ImageIO: every input goes through the public decoding path
// (signature check, PNG chunk walk or JPEG marker walk, then the C shim) three times: with
// the default options, accepting partial JPEGs, and keeping 16-bit PNG samples
// (`Image.samples16`), whose high bytes must equal the 8-bit decode.
// Compiled together with Sources/VAImageIO by Fuzz/build.sh, not by SwiftPM.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: count))
  var limits = DecodeLimits()
  limits.maxPixels = 4 * 1024 * 1024  // keep each run fast; limits themselves are tested
  if let image = try? Image(decoding: bytes, name: "fuzz", options: DecodeOptions(limits: limits)) {
    // A decoded image must be self-consistent and survive a PNG round trip.
    precondition(image.pixels.count == image.width * image.height * image.channels)
    if let png = try? image.pngData(), let back = try? Image(decoding: png, name: "roundtrip") {
      precondition(back == image, "PNG round trip changed the pixels")
    }
  }
  _ = try? Image(decoding: bytes, name: "fuzz", options: DecodeOptions(acceptPartial: true, limits: limits))
  if let wide = try? Image.samples16(decoding: bytes, name: "fuzz", options: DecodeOptions(applyExifOrientation: false, limits: limits)) {
    precondition(wide.samples.count == wide.width * wide.height * wide.channels, "16-bit sample count")
    precondition(wide.bitsPerSample == 8 || wide.bitsPerSample == 16, "bits per sample \(wide.bitsPerSample)")
    // The 8-bit path keeps each sample's high byte (png_set_strip_16).
    if let narrow = try? Image(decoding: bytes, name: "fuzz", options: DecodeOptions(applyExifOrientation: false, limits: limits)) {
      let high = wide.bitsPerSample == 16 ? wide.samples.map { UInt8($0 >> 8) } : wide.samples.map { UInt8($0) }
      precondition(narrow.pixels == high, "16-bit samples disagree with the 8-bit decode")
    }
  }
  return 0
}
