import Foundation
import Testing
@testable import VisionAttention

/// `--map pca` and `--map norms` through the library, against scikit-learn and numpy on the
/// same model run through timm (`Scripts/reference/dense_views_fixtures.py`, fixture
/// `Tests/VAModelsTests/Fixtures/dense_views`): the PCA within 1e-4, the norms within 1e-5
/// of the reference's largest value.
@Suite(.serialized) struct DenseViewsTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let fixture = root + "/Tests/VAModelsTests/Fixtures/dense_views"
  static let checkpoint = root + "/Tests/VAModelsTests/Fixtures/timm_registers_nonsquare"
  static let names = ["coffee64", "cat64", "astronaut48x80"]
  static let prefix = 5

  /// The reference's tensors, by name.
  static func expected() throws -> [String: [Float]] {
    let file = try SafetensorsFile(path: fixture + "/expected.safetensors")
    return Dictionary(uniqueKeysWithValues: try file.tensorNames.map { ($0, try file.floats($0)) })
  }

  /// One input through the fixture model at its own size, keeping the tokens.
  static func run(_ name: String, settings: FigureSettings = FigureSettings()) throws -> Scene {
    let model = try CheckpointModel(path: checkpoint)
    let result = try ImageAttention(contentsOfFile: "\(fixture)/\(name).png", model: model, input: InputSettings(resize: .none), features: true)
    var settings = settings
    if settings.map == nil { settings.map = .pca }
    return try result.scene(settings)
  }

  /// Largest difference over the reference's largest magnitude (at least 1).
  static func error(_ got: [Float], _ want: [Float]) -> Float {
    precondition(got.count == want.count, "\(got.count) values against \(want.count)")
    let peak = max(want.map(abs).max() ?? 0, 1)
    return zip(got, want).map { abs($0 - $1) }.max().map { $0 / peak } ?? 0
  }

  @Test(arguments: names) func pcaMatchesScikitLearn(_ name: String) throws {
    let want = try Self.expected()
    let scene = try Self.run(name)
    let features = try #require(scene.run.features)
    #expect(Self.error(features.final, want["\(name).features"]!) < 1e-5)
    let (result, tokens, _) = try scene.patchPCA()
    #expect(tokens == features.final)
    #expect(Self.error(result.projections.map(Float.init), want["\(name).pca"]!) < 1e-4, "\(name) pca")
    #expect(Self.error(result.fit.components.flatMap { $0.map(Float.init) }, want["\(name).components"]!) < 1e-4, "\(name) components")
    #expect(Self.error(result.fit.explainedVariance.map(Float.init), want["\(name).explained_variance"]!) < 1e-4, "\(name) variance")
    #expect(Self.error(result.fit.mean.map(Float.init), want["\(name).mean"]!) < 1e-5)
    // --layer 1: block 1's output, before any final norm.
    var layer1 = FigureSettings()
    (layer1.map, layer1.layer) = (.pca, 1)
    let block = try Self.run(name, settings: layer1)
    #expect(Self.error(try block.patchPCA().tokens, want["\(name).features.1"]!) < 1e-5)
    #expect(Self.error(try block.patchPCA().result.projections.map(Float.init), want["\(name).pca.layer1"]!) < 1e-4, "\(name) layer 1")
  }

  /// DINOv2's two-step recipe: Otsu's threshold (as scikit-image) or a given one on the first
  /// component, the patches below it black, the PCA refitted on the rest.
  @Test(arguments: names) func foregroundTwoStepMatchesTheReference(_ name: String) throws {
    let want = try Self.expected()
    let all = try Self.run(name).patchPCA().result
    let otsu = otsuThreshold((0..<all.foreground.count).map { all.projections[$0] })
    #expect(abs(Float(otsu) - want["\(name).otsu"]![0]) < 1e-4, "\(name): Otsu \(otsu)")
    for (tag, foreground) in [("auto", PCAForeground.otsu), ("0.5", .threshold(0.5))] {
      var settings = FigureSettings()
      (settings.map, settings.foreground) = (.pca, foreground)
      let result = try Self.run(name, settings: settings).patchPCA().result
      #expect(result.foreground.map { $0 ? Float(1) : 0 } == want["\(name).fg.\(tag).mask"]!, "\(name) \(tag) mask")
      #expect(Self.error(result.projections.map(Float.init), want["\(name).fg.\(tag)"]!) < 1e-4, "\(name) \(tag)")
      // The background is black, the foreground sigmoid(2 · projection).
      let n = result.foreground.count
      for (i, colour) in result.colours.enumerated() where !result.foreground[i % n] { #expect(colour == 0) }
    }
  }

  @Test(arguments: names) func normsMatchNumpy(_ name: String) throws {
    let want = try Self.expected()
    var settings = FigureSettings()
    settings.map = .norms
    let scene = try Self.run(name, settings: settings)
    let norms = try #require(scene.run.features).norms
    #expect(Self.error(norms.flatMap { $0 }, want["\(name).norms"]!) < 1e-5)
    for factor in [4.0, 1.2] {
      let high = TokenFeatures.highNormTokens(norms, factor: factor)
      let t = norms[0].count
      let mask = high.flatMap { layer in (0..<t).map { layer.contains($0) ? Float(1) : 0 } }
      #expect(mask == want["\(name).high.\(factor == 4 ? "4" : "1.2")"]!, "\(name) factor \(factor)")
    }
    // The figure's dump tensor is the same [L, T].
    let figure = try scene.figure()
    let dumped = try #require(figure.tensors.first { $0.name == "norms" })
    #expect(dumped.shape == [norms.count, norms[0].count] && dumped.values == norms.flatMap { $0 })
  }

  /// A folder run's one PCA: the statistics of every image's patches, streamed and merged
  /// in any grouping (shards), fit as scikit-learn fits the concatenated patches.
  @Test func sharedFitOverImagesMatchesScikitLearn() throws {
    let want = try Self.expected()
    var whole = PCAStatistics(dimension: 64)
    var parts: [PCAStatistics] = []
    var tokens: [String: [Float]] = [:]
    for name in Self.names {
      let features = try #require(try Self.run(name).run.features)
      tokens[name] = features.final
      let rows = Array(Self.prefix..<features.tokens)
      whole.add(features.final, rows: rows)
      var part = PCAStatistics(dimension: 64)
      part.add(features.final, rows: rows)
      parts.append(part)
    }
    let merged = try parts.dropFirst().reduce(parts[0]) { try $0.merged(with: $1) }
    #expect(merged.count == whole.count)
    let fit = try merged.fit()
    #expect(Self.error(fit.mean.map(Float.init), want["folder.mean"]!) < 1e-5)
    #expect(Self.error(fit.components.flatMap { $0.map(Float.init) }, want["folder.components"]!) < 1e-4)
    #expect(Self.error(fit.explainedVariance.map(Float.init), want["folder.explained_variance"]!) < 1e-4)
    for name in Self.names {
      let result = try PatchPCAResult(tokens: tokens[name]!, prefix: Self.prefix, dimension: 64, foreground: .all, given: fit)
      #expect(Self.error(result.projections.map(Float.init), want["folder.\(name).pca"]!) < 1e-4, "\(name)")
    }
    // Saved and read back (float32), it projects the same within 1e-4.
    let path = NSTemporaryDirectory() + "dense-views-\(UUID().uuidString).safetensors"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try fit.write(to: path, tokens: merged.count)
    let read = try PatchPCA(contentsOfFile: path)
    let again = try PatchPCAResult(tokens: tokens["cat64"]!, prefix: Self.prefix, dimension: 64, foreground: .all, given: read)
    #expect(Self.error(again.projections.map(Float.init), want["folder.cat64.pca"]!) < 1e-4)
    #expect(throws: VisionAttentionError.pcaDimensionMismatch(path: path, fit: 64, tokens: 32)) {
      try PatchPCAResult(tokens: [Float](repeating: 0, count: 32 * 10), prefix: 0, dimension: 32, foreground: .all, given: read, source: path)
    }
  }

  /// The figure's pixels are `sigmoid(2 · pca)` of its own dumped projections: at every
  /// patch centre of the bare picture (nearest upsampling), each channel within half a level.
  @Test(arguments: names) func figurePixelsAreTheSigmoidOfTheDumpedProjections(_ name: String) throws {
    var settings = FigureSettings()
    (settings.map, settings.style, settings.upsample, settings.foreground) = (.pca, .bare, .nearest, name == "cat64" ? .otsu : .all)
    let scene = try Self.run(name, settings: settings)
    let figure = try scene.figure()
    let pca = try #require(figure.tensors.first { $0.name == "pca" })
    let gw = scene.attention.gridWidth, gh = scene.attention.gridHeight, n = gw * gh, p = 8
    #expect(pca.shape == [3, gh, gw] && figure.image.width == gw * p && figure.image.height == gh * p)
    let mask = figure.tensors.first { $0.name == "foreground" }?.values ?? [Float](repeating: 1, count: n)
    for r in 0..<gh {
      for c in 0..<gw {
        let x = c * p + p / 2, y = r * p + p / 2
        for k in 0..<3 {
          let v = Double(pca.values[k * n + r * gw + c])
          let want = mask[r * gw + c] == 1 ? 255 / (1 + exp(-2 * v)) : 0
          let got = Double(figure.image.pixels[(y * figure.image.width + x) * 3 + k])
          #expect(abs(got - want) <= 0.5 + 1e-3, "\(name) patch (\(c),\(r)) channel \(k): \(got) vs \(want)")
        }
      }
    }
  }

  /// The page offers both maps from its payload: `pca`'s colours and each layer's patch norms,
  /// within the 8-bit quantisation (a 255th of each row's largest value).
  @Test func thePagePayloadHoldsBothMaps() throws {
    var settings = FigureSettings()
    settings.map = .norms
    let scene = try Self.run("astronaut48x80", settings: settings)
    let payload = try scene.inspectorPayload(input: "astronaut48x80.png")
    let maps = try #require(payload.tokenMaps)
    let features = try #require(scene.run.features)
    let n = scene.attention.patchCount
    func decoded(_ q: QuantisedRows) -> [Float] { q.bytes.enumerated().map { Float($0.element) * q.scales[$0.offset / n] / 255 } }
    let norms = features.norms.flatMap { $0[Self.prefix...] }
    #expect(zip(decoded(maps.norms), norms).allSatisfy { abs($0 - $1) <= (norms.max() ?? 0) / 255 })
    let colours = try scene.patchPCA().result.colours
    #expect(zip(decoded(maps.pca), colours).allSatisfy { abs($0 - $1) <= 1 / 255 })
    #expect(payload.maps.suffix(2).map(\.name) == ["pca", "norms"] && payload.maps.last?.requires == .tokens)
  }

  @Test func refusesTooFewPatchesOrChannels() {
    var few = PCAStatistics(dimension: 4)
    few.add([Float](repeating: 1, count: 12))
    #expect(throws: VisionAttentionError.tooFewForPCA(what: "patches", count: 3, needed: 4)) { try few.fit() }
    #expect(throws: VisionAttentionError.tooFewForPCA(what: "token channels", count: 2, needed: 3)) { try PCAStatistics(dimension: 2).fit() }
  }

  /// The maps of the tokens read no attention: even far above the full-attention limit (a
  /// 1024x1024 image of a ViT-S/16 has 4,097 tokens) the plan keeps two rows per layer, never
  /// a `[heads, T, T]`.
  @Test func tokenMapsKeepNoAttentionMatrices() throws {
    let model = try CheckpointModel(path: Self.checkpoint)
    let geometry = try InputGeometry(originalWidth: 1024, originalHeight: 1024, patchSize: 8, longerSide: nil, maximumUpscale: nil)
    for map in [MapKind.pca, .norms] {
      var settings = FigureSettings()
      settings.map = map
      let plan = try AttentionPlan(settings: settings, model: model, geometry: geometry, page: false, dump: true)
      #expect(!plan.full && plan.features && plan.dumpAttention == .rows, "\(map)")
      #expect(plan.capture == .rows(tokens: plan.rowTokens, queriesKeys: false), "\(map)")
    }
  }
}
