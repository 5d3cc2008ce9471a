import Foundation
import Testing
@testable import VisionAttention
@testable import VitAttendCLI

/// The map registry covers every consumer: each `MapKind` has one entry, and what the entry
/// declares is what the figures, the bare overlay, the attention plan, `vit-attend`'s
/// warnings, `--faithfulness` and the page do. A map added to `MapKind` and forgotten in the
/// registry, or declared one way and drawn another, fails here.
@Suite struct MapRegistryTests {
  let coffee = CommandRunner.repositoryFile("images/coffee.png")
  let timm = CommandRunner.repositoryFile("Tests/VAModelsTests/Fixtures/timm_basic")

  @Test func everyMapKindHasExactlyOneEntryAndNamesAreUnique() {
    for kind in MapKind.allCases {
      #expect(MapRegistry.all.filter { $0.kind == kind }.count == 1, "\(kind)")
      #expect(MapRegistry.spec(kind).kind == kind && MapRegistry.spec(kind).name == kind.rawValue)
      #expect(MapRegistry.spec(named: kind.rawValue)?.kind == kind)
      // Every `--map` is a figure; only page views and baselines lack one.
      #expect(MapRegistry.spec(kind).figure != nil, "\(kind) has no figure")
    }
    #expect(MapRegistry.spec(nil).name == "default" && MapRegistry.spec(nil).figure != nil)
    let names = MapRegistry.all.map(\.name)
    #expect(Set(names).count == names.count, "\(names)")
    // Page views and baselines are what their role says, and nothing else.
    for spec in MapRegistry.all where !spec.isFigure {
      #expect(spec.figure == nil && spec.overlay == nil && spec.kind == nil, "\(spec.name)")
      #expect(spec.page.isView || spec.faithfulness != nil, "\(spec.name) appears nowhere")
    }
  }

  /// The declarations equal the sets the consumers kept before the registry (issue 25), so
  /// the move changed no behaviour.
  @Test func declarationsKeepTheFormerSets() {
    func figures(_ pick: (MapSpec) -> Bool) -> [String] { MapRegistry.all.filter { $0.isFigure && pick($0) }.map(\.name).sorted() }
    #expect(figures { $0.reads.contains(.head) } == ["cls", "default", "mask", "query"])
    #expect(figures { $0.reads.contains(.fuse) } == ["cls", "default", "mask", "query", "rollout"])
    #expect(figures { $0.reads.contains(.layer) } == ["attngrad", "cls", "default", "encoder", "mask", "pca", "query"])
    #expect(figures { !$0.reads.contains(.query) } == ["cls", "distance", "norms", "pca", "posembed"])
    #expect(figures { $0.reads.contains(.cnn) } == ["default", "distance", "rf"])
    #expect(figures { $0.reads.contains(.cnnWeights) } == ["default", "gradcam"])
    #expect(figures(\.needsGradients) == ["attngrad", "gradcam", "gradrollout"])
    #expect(figures { $0.needs.contains(.queriesKeys) } == ["distance", "rollout"])
    #expect(figures(\.hasBareOverlay) == ["attngrad", "cls", "default", "gradcam", "gradrollout", "pca", "query", "rollout"])
    // The maps of the tokens (issue 26) read the tokens and no attention.
    #expect(figures { $0.needs.contains(.tokens) } == ["norms", "pca"])
    #expect(figures { $0.reads.contains(.pca) } == ["pca"] && figures { $0.reads.contains(.normFactor) } == ["norms"])
    #expect(figures(\.perHead) == ["cls", "default", "query"])
    #expect(figures(\.datasetSummary) == ["cls", "distance", "rollout"])
    #expect(MapRegistry.pageViews.map(\.name) == ["query", "cls", "rollout", "mask", "pool", "gradrollout", "gradcam", "attngrad", "pca", "norms"])
    #expect(FaithfulnessMap.allCases.map(\.rawValue) == ["cls", "rollout", "gradrollout", "gradcam", "attngrad", "random"])
    #expect(FaithfulnessMap.defaults.map(\.rawValue) == ["cls", "rollout", "gradrollout", "gradcam", "random"])
  }

  /// Every map's styled figure draws, adds only the dump tensors its entry declares, and
  /// `--style bare` draws exactly the maps that declare an overlay.
  @Test func figuresAndBareOverlaysFollowTheRegistry() throws {
    let result = try ImageAttention(contentsOfFile: coffee, model: CheckpointModel(path: timm), features: true)
    for kind in [nil] + MapKind.allCases.map(Optional.some) {
      let spec = MapRegistry.spec(kind)
      var settings = FigureSettings()
      settings.map = kind
      // DETR's map (`DETRPipeline.maps`) is refused by name for a ViT's scene.
      if kind == .encoder {
        let error = #expect(throws: VisionAttentionError.self) { try result.scene(settings).figure() }
        #expect(error?.description.hasPrefix("--map encoder does not apply to a vision transformer checkpoint") == true, "\(String(describing: error))")
        continue
      }
      let figure = try result.scene(settings).figure()
      let names = Set(figure.tensors.map(\.name))
      #expect(names.isSubset(of: spec.dumpTensors), "\(spec.name): \(names) not in \(spec.dumpTensors)")
      // `cnn_gradcam` needs --cnn-weights; every other declared map adds one of its tensors.
      if !spec.dumpTensors.filter({ $0 != "cnn_gradcam" }).isEmpty { #expect(!names.isEmpty, "\(spec.name) added no tensor") }
      settings.style = .bare
      let scene = try result.scene(settings)
      if spec.hasBareOverlay {
        let bare = try scene.figure()
        #expect(bare.image.width == result.image.width && bare.image.height == result.image.height, "\(spec.name)")
        #expect(Set(bare.tensors.map(\.name)).isSubset(of: spec.dumpTensors), "\(spec.name)")
        // A picture that is not one heat map (pca's RGB) has its own bare figure instead.
        #expect(try scene.singleMap()?.values.count == (spec.bare == nil ? result.record.patchCount : nil), "\(spec.name)")
      } else {
        #expect(throws: VisionAttentionError.self, "\(spec.name) has no overlay") { try scene.figure() }
        #expect(try scene.singleMap() == nil)
      }
    }
  }

  /// Above the full-attention limit the plan keeps full matrices for exactly the gradient
  /// maps, queries and keys for exactly the maps that need them, and refuses
  /// `--discard-ratio` for the maps that read it.
  @Test func attentionPlansFollowTheRegistry() throws {
    let model = try CheckpointModel(path: timm)
    let geometry = try PreparedImage(contentsOfFile: coffee, for: model).geometry
    for kind in [nil] + MapKind.allCases.map(Optional.some) {
      let spec = MapRegistry.spec(kind)
      var settings = FigureSettings()
      (settings.map, settings.fullAttentionLimit) = (kind, 0)
      let plan = try AttentionPlan(settings: settings, model: model, geometry: geometry, page: false, dump: false)
      #expect(plan.full == spec.needsGradients, "\(spec.name)")
      if case .rows(_, let queriesKeys) = plan.capture { #expect(queriesKeys == spec.needs.contains(.queriesKeys), "\(spec.name)") }
      settings.discardRatio = 0.5
      let refused = (try? AttentionPlan(settings: settings, model: model, geometry: geometry, page: false, dump: false)) == nil
      #expect(refused == (spec.reads.contains(.discardRatio) && !spec.needsGradients), "\(spec.name)")
    }
  }

  /// `vit-attend` warns about an option exactly when the map's entry does not read it, and
  /// `--per-head` is refused exactly for the maps that do not declare it.
  @Test func warningsFollowTheRegistry() throws {
    let options: [(MapReads, [String])] = [
      (.layer, ["--layer", "0"]), (.head, ["--head", "0"]), (.fuse, ["--fuse", "max"]), (.query, ["--query", "10,10"]),
      (.keep, ["--keep", "0.5"]), (.discardRatio, ["--discard-ratio", "0.5"]), (.cnn, ["--cnn", "alexnet"]),
      (.target, ["--class", "1"]), (.target, ["--target-embedding", "e.json"]), (.cnnWeights, ["--cnn-weights", "cnn"]),
    ]
    for kind in [nil] + MapKind.allCases.map(Optional.some) {
      let spec = MapRegistry.spec(kind)
      let map = kind.map { ["-m", $0.rawValue] } ?? []
      for (option, arguments) in options {
        let command = try VitAttend.parse([coffee, "-w", timm, "-o", "/tmp/map-registry.png"] + map + arguments)
        let warned = command.ignoredOptionWarnings().contains { $0.hasPrefix(arguments[0] + " ") }
        #expect(warned == !spec.reads.contains(option), "\(spec.name) \(arguments[0]): \(command.ignoredOptionWarnings())")
      }
      let perHead = (try? VitAttend.parse([coffee, "-o", "/tmp/map-registry.png", "--per-head"] + map)) != nil
      #expect(perHead == spec.perHead, "\(spec.name) --per-head")
    }
  }

  /// Every scored map scores on a real image through its entry, over every patch.
  @Test func faithfulnessScoresEveryRegisteredMap() throws {
    let model = try CheckpointModel(path: timm)
    let image = try PreparedImage(contentsOfFile: coffee, for: model).image
    let run = try model.run(image)
    let attribution = try model.attributions([image], targets: [.topClass])[0]
    let record = AttributionRecordPair(run: run.attention, attribution: attribution)
    #expect(FaithfulnessMap.allCases.map(\.rawValue) == MapRegistry.all.filter { $0.faithfulness != nil }.map(\.name))
    for map in FaithfulnessMap.allCases {
      #expect(FaithfulnessMap(rawValue: map.rawValue) == map)
      let values = try FaithfulnessRun.map(map, record: record, seed: 0).get()
      #expect(values.count == run.attention.patchCount && values.contains { $0 != values[0] }, "\(map.rawValue)")
    }
    #expect(FaithfulnessMap(rawValue: "heads") == nil && FaithfulnessMap(rawValue: "pool") == nil)
  }

  /// The page's list of views is the payload's, decoded from a written page, and equals the
  /// registry's; its stored class-specific maps are the views that require them; every
  /// `--map` opens the page on one of its views; the script draws each view it lists.
  @Test func thePageReadsItsViewsFromThePayload() throws {
    let result = try ImageAttention(contentsOfFile: coffee, model: CheckpointModel(path: timm), features: true)
    for kind in [nil] + MapKind.allCases.map(Optional.some) {
      var settings = FigureSettings()
      settings.map = kind
      let html = String(decoding: try result.scene(settings).page(input: coffee), as: UTF8.self)
      let start = try #require(html.range(of: "<script type=\"application/json\" id=\"payload\">")).upperBound
      let end = try #require(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
      let payload = try #require(try JSONSerialization.jsonObject(with: Data(html[start..<end].utf8)) as? [String: Any])
      let views = try #require(payload["maps"] as? [[String: Any]])
      #expect(views.compactMap { $0["name"] as? String } == MapRegistry.pageViews.map(\.name))
      #expect(views.compactMap { $0["label"] as? String } == MapRegistry.pageViews.compactMap(\.page.label))
      let stored = try #require(payload["attribution"] as? [String: Any])
      #expect(Set(stored.keys) == Set(MapRegistry.pageViews.filter { $0.page.requires == .attribution }.map(\.name) + ["target"]))
      let initial = try #require((payload["initial"] as? [String: Any])?["map"] as? String)
      #expect(MapRegistry.pageViews.contains { $0.name == initial }, "--map \(kind?.rawValue ?? "default") opens on \(initial)")
      if MapRegistry.spec(kind).page.opens == .itself { #expect(initial == kind?.rawValue) }
    }
    // No menu of its own: the template's select is empty, the script fills it from the payload.
    let template = try InspectorPage.text(of: .template)
    #expect(template.contains("<select id=\"map\"></select>"))
  }

  /// In a browser, the page draws every view the registry lists, or says which it lacks
  /// and why (this model has no attention-pooling head), and its menu is the registry's.
  @Test func thePageDrawsEveryRegisteredView() throws {
    let scratch = ScratchFolder()
    let result = try ImageAttention(contentsOfFile: coffee, model: CheckpointModel(path: timm), features: true)
    let page = scratch.file("views.html")
    try Data(result.scene(FigureSettings()).page(input: coffee)).write(to: URL(fileURLWithPath: page))
    let browser = try HeadlessBrowser.find()
    for view in MapRegistry.pageViews {
      let map = try browser.currentMap(page: page, fragment: "map=\(view.name)")
      #expect(map.dom.contains("<option value=\"\(view.name)\""), "the menu has no \(view.name)")
      if map.state["map"] as? String == view.name {
        #expect(map.values.count == result.record.patchCount && map.values.contains { $0 > 0 }, "\(view.name)")
      } else {
        #expect(view.page.requires != nil && map.note.contains("#map=\(view.name) "), "\(view.name) is neither drawn nor explained: \(map.note)")
      }
    }
  }
}
