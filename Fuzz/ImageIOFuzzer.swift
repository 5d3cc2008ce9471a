// libFuzzer entry point for ImageIO: every input goes through the public decoding path
// (signature check, PNG chunk walk or JPEG marker walk, then the C shim), once with the
// default options and once accepting partial JPEGs and keeping 16-bit PNG samples.
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
  return 0
}
