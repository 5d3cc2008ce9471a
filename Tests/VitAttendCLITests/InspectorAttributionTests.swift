import Foundation
import Testing
import VisionAttention

/// The page's class-specific maps (gradient rollout, Grad-CAM, attention × gradient per
/// layer) and the attention-pooling head's map, opened in headless Chromium and compared
/// with what the library computes for the same image and target.
///
/// Tolerance as in `InspectorPageTests`: each map is stored as bytes scaled by its maximum,
/// so one full step, `max / 255`, bounds every value.
@Suite(.serialized, .needsBrowser) struct InspectorAttributionTests {
  let coffee = CommandRunner.repositoryFile("images/coffee.png")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")

  func expectMap(_ page: String, _ fragment: String, equals expected: [Float], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let map = try HeadlessBrowser.find().currentMap(page: page, fragment: fragment)
    #expect(map.state["map"] as? String == fragment.split(separator: "&")[0].dropFirst(4).description, "#\(fragment)", sourceLocation: sourceLocation)
    #expect(map.values.count == expected.count, "#\(fragment): \(map.values.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    let worst = zip(map.values, expected).map { abs($0 - Double($1)) }.max() ?? .infinity
    let step = Double(expected.max()!) / 255
    #expect(worst <= step + 1e-7, "#\(fragment): off by \(worst), step \(step)", sourceLocation: sourceLocation)
  }

  /// `--class 1` (not the top-1 class here): every gradient map on the page is the
  /// library's for that class, `--map gradcam` opens the page on Grad-CAM, and the caption
  /// names the target.
  @Test func gradientMapsAreTheLibrarysForTheClass() throws {
    let scratch = ScratchFolder()
    let page = scratch.file("page.html")
    let result = try CommandRunner.run([coffee, "-w", timm, "--class", "1", "--map", "gradcam", "--html", page])
    #expect(result.status == 0, "\(result.error)")

    let model = try CheckpointModel(path: timm)
    let prepared = try PreparedImage(contentsOfFile: coffee, for: model, input: InputSettings())
    let a = try model.attributions([prepared.image], targets: [.classIndex(1)])[0]
    let top = try model.attributions([prepared.image], targets: [.topClass])[0]
    #expect(top.targetClass != 1, "class 1 should not be the top-1 class, so the page's target is the one asked for")

    try expectMap(page, "map=gradrollout", equals: a.gradRolloutMap)
    try expectMap(page, "map=gradcam", equals: a.gradCAM)
    for layer in a.attentionGradient.indices {
      try expectMap(page, "map=attngrad&layer=\(layer)", equals: a.attentionGradientMap(layer: layer))
    }
    // Not vacuous: the top class's gradient rollout is another map.
    let difference = zip(a.gradRolloutMap, top.gradRolloutMap).map { abs($0 - $1) }.max()!
    #expect(difference > 3 * a.gradRolloutMap.max()! / 255)

    let first = try HeadlessBrowser.find().currentMap(page: page, fragment: "")
    #expect(first.state["map"] as? String == "gradcam")
    let html = try String(contentsOfFile: page, encoding: .utf8)
    #expect(html.contains("\"target\":\"class 1, p = "), "the payload names the target")
  }

  /// A model with an attention-pooling head (the shipped ShapeWorld model): the page opens
  /// on the pool head's map when no query is given, one head or fused, equal to `attn.pool`.
  @Test func thePoolingHeadsMapIsThePagesReadout() throws {
    let scratch = ScratchFolder()
    let weights = CommandRunner.repositoryFile("Examples/patch-classify/model")
    let star = CommandRunner.repositoryFile("images/shapeworld-star.png")
    let (page, dump) = (scratch.file("page.html"), scratch.file("d.safetensors"))
    let result = try CommandRunner.run([star, "-w", weights, "--html", page, "--dump", dump])
    #expect(result.status == 0, "\(result.error)")
    let file = try DumpFile(path: dump)
    let shape = try #require(file.shapes["attn.pool"]), pool = try #require(file.tensors["attn.pool"])
    let (heads, n) = (shape[0], shape[2])
    let head = { (h: Int) in Array(pool[(h * n)..<((h + 1) * n)]) }
    let mean = (0..<n).map { j in (0..<heads).reduce(Float(0)) { $0 + pool[$1 * n + j] } / Float(heads) }

    let first = try HeadlessBrowser.find().currentMap(page: page, fragment: "")
    #expect(first.state["map"] as? String == "pool")
    try expectMap(page, "map=pool&fuse=mean", equals: mean)
    try expectMap(page, "map=pool&head=1&fuse=none", equals: head(1))
    // The two differ by more than a step, so the checks above can fail.
    #expect(zip(head(1), mean).map { abs($0 - $1) }.max()! > 3 * mean.max()! / 255)
  }

  /// Maps a page cannot draw are said, not swapped silently: no pooling head on a class-token
  /// model, no gradient maps for the untrained built-in model.
  @Test func missingMapsAreNamedInTheNote() throws {
    let scratch = ScratchFolder()
    let (timmPage, builtInPage) = (scratch.file("t.html"), scratch.file("b.html"))
    #expect(try CommandRunner.run([coffee, "-w", timm, "--html", timmPage]).status == 0)
    #expect(try CommandRunner.run([coffee, "--html", builtInPage]).status == 0)
    let browser = try HeadlessBrowser.find()
    let noPool = try browser.currentMap(page: timmPage, fragment: "map=pool")
    #expect(noPool.state["map"] as? String == "cls" && noPool.note.contains("#map=pool needs an attention-pooling head"), "\(noPool.note)")
    let noGradients = try browser.currentMap(page: builtInPage, fragment: "map=gradrollout")
    #expect(noGradients.state["map"] as? String != "gradrollout")
    #expect(noGradients.note.contains("#map=gradrollout is not on this page (no gradient maps: the built-in model is untrained"), "\(noGradients.note)")

    // Asked for on the command line, a gradient map the model cannot give stops the run
    // with the PNG figure's message, and writes no page.
    let tower = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/hf_siglip_vision")
    // So does a --class or --target-embedding that does not fit the model, with any map.
    let seven = scratch.file("seven.safetensors")
    let header = Array(#"{"e":{"dtype":"F32","shape":[7],"data_offsets":[0,28]}}"#.utf8)
    #expect(FileManager.default.createFile(atPath: seven, contents: Data(withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + Array(repeating: [0, 0, 128, 63], count: 7).joined())))  // seven 1.0s
    for (arguments, message) in [
      (["-w", tower, "--map", "gradrollout"], "this model has no classifier"),
      (["--map", "gradcam"], "--map gradcam needs gradients of a classifier"),
      (["-w", timm, "--class", "500"], "--class 500 is out of range"),
      (["-w", tower, "--target-embedding", seven], "--target-embedding has 7 values"),
    ] {
      let result = try CommandRunner.run([coffee, "--html", scratch.file("refused.html")] + arguments)
      #expect(result.status == 1 && result.error.contains(message), "\(result.error)")
      #expect(!FileManager.default.fileExists(atPath: scratch.file("refused.html")))
    }
  }
}
