import Foundation
import Testing
import VisionAttention

/// The README's page sizes ("Sizes at 224×224: ViT-Ti/16 2.3 MB, ViT-S/16 4.2 MB, ViT-B/16
/// 8.0 MB") and `--help`'s formula, checked on pages written for random-weight ViT-Ti/16,
/// S/16 and B/16 in timm's layout (1000 classes, so the page carries the gradient maps too)
/// and a 224×224 image (images/astronaut.png, 512×512, fitted to the models' 224).
///
/// A page's size depends on layers, heads and tokens, not on the model's width (shown by
/// `pageSizeDoesNotDependOnTheWidth` on the real ViT-Ti/16), so S and B are checked at width
/// 48 with their depth and heads: a debug build needs minutes to initialise and save the
/// real ViT-B's 86 M weights and seconds for these.
@Suite(.serialized) struct PageSizeTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static func file(_ path: String) -> String { repository.appendingPathComponent(path).path }

  /// The sizes the README states, in MB (10⁶ bytes), by model name ("ViT-Ti/16"...).
  static func readmeSizes() throws -> [String: Double] {
    let readme = try String(contentsOfFile: file("README.md"), encoding: .utf8)
      .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    let claim = try #require(readme.range(of: "Sizes at 224×224: "), "the README no longer states the page sizes")
    let sentence = readme[claim.upperBound...].prefix { $0 != "(" }
    var sizes: [String: Double] = [:]
    for part in sentence.split(separator: ",") {
      let words = part.split(separator: " ")
      if words.count == 3, words[2] == "MB", let megabytes = Double(words[1]) { sizes[String(words[0])] = megabytes }
    }
    return sizes
  }

  /// The formula: each attention weight one byte, base64 (4/3): L·H·T·(T+4) for the
  /// weights, 3·R·(T+4) for rollout (R = 1 with a class token), N·(C+4) for SAGAN over
  /// C 8-pixel cells; plus the input as PNG and about 35 kB of script, style and colour tables.
  static func formula(layers l: Int, heads h: Int, side: Int, patch: Int, png: Int) -> Int {
    let n = (side / patch) * (side / patch), t = n + 1, c = (side / 8) * (side / 8)
    return 4 * (l * h * t * (t + 4) + 3 * 1 * (t + 4) + n * (c + 4)) / 3 + png + 35_000
  }

  /// The base64 length of the input PNG inside a page's payload.
  static func embeddedPNG(_ page: [UInt8]) throws -> Int {
    let text = String(decoding: page, as: UTF8.self)
    let key = try #require(text.range(of: "\"png\":\""))
    return text[key.upperBound...].prefix { $0 != "\"" }.utf8.count
  }

  /// The `--html` page of astronaut.png for a random-weight model of `configuration`, saved
  /// in timm's layout and loaded as `vit-attend --weights` loads it.
  static func page(_ configuration: ViTConfiguration) throws -> [UInt8] {
    let folder = NSTemporaryDirectory() + "vit-attend-page-size-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var rng = SplitMix64(seed: 25)
    try VisionTransformer(configuration, using: &rng).save(to: folder)
    let model = try CheckpointModel(path: folder)
    return try ImageAttention(contentsOfFile: file("images/astronaut.png"), model: model).scene().page(input: "astronaut.png")
  }

  /// ViT-{size}/16's depth and heads at width 48.
  static func shaped(_ size: ViTConfiguration.Size) -> ViTConfiguration {
    let real = ViTConfiguration.preset(size, patchSize: 16)
    return ViTConfiguration(patchSize: 16, embedDimension: 48, depth: real.depth, headCount: real.headCount)
  }

  @Test func pageSizeDoesNotDependOnTheWidth() throws {
    let (real, shaped) = (try Self.page(.preset(.tiny, patchSize: 16)), try Self.page(Self.shaped(.tiny)))
    // The model's name in the payload ("D=192" or "D=48") is all that differs.
    #expect(abs(real.count - shaped.count) <= 16, "ViT-Ti/16: \(real.count) bytes, at width 48 \(shaped.count)")
  }

  @Test(arguments: [ViTConfiguration.Size.tiny, .small, .base])
  func pageSizeIsTheREADMEs(size: ViTConfiguration.Size) throws {
    let name = "ViT-\(size.rawValue)/16"
    let stated = try #require(try Self.readmeSizes()[name], "the README states no size for \(name)")
    let configuration = Self.shaped(size)
    let page = try Self.page(configuration)
    let expected = Self.formula(layers: configuration.depth, heads: configuration.headCount, side: 224, patch: 16, png: try Self.embeddedPNG(page))
    // The formula leaves out the payload's small parts (gradient maps, row scales, JSON keys).
    #expect(abs(Double(page.count - expected)) < 0.02 * Double(expected), "\(name): \(page.count) bytes, the formula gives \(expected)")
    let megabytes = (Double(page.count) / 100_000).rounded() / 10
    #expect(megabytes == stated, "\(name): the page is \(page.count) bytes, the README says \(stated) MB")
  }
}
