import VisionAttention

extension VitAttend {
  /// Whether `--query` has no use in this run: the map does not depend on a query, and no
  /// page (whose first view starts at the query) is written.
  var ignoresQuery: Bool {
    let page = output.html != nil || (output.outDir != nil && output.format == .html)
    return !page && [MapKind.cls, .distance, .posembed].contains(maps.map)
  }

  /// Whether `--cnn-weights` has a use in this run: a full-style PNG figure or a dump of the
  /// default figure or `--map gradcam` (the page and `--faithfulness` do not show it).
  var usesCNNWeights: Bool {
    let figures = output.out != nil || (output.outDir != nil && output.format == .png) || output.dump != nil || output.dumpDir != nil
    return model.cnnWeights != nil && maps.faithfulness == nil && figures && output.style == .full && (maps.map == nil || maps.map == .gradcam)
  }

  /// Options the user gave that the chosen outputs never read, each as one sentence. They are
  /// warnings, not errors: the run is still what was asked for, less what cannot apply.
  func ignoredOptionWarnings() -> [String] {
    let map = maps.map
    // The page shows every map, so with a page every map option has a use.
    let page = output.html != nil || (output.outDir != nil && output.format == .html)
    var warnings: [String] = []
    func warn(_ option: String, unless applies: Bool, because why: String) {
      if !applies, !page { warnings.append("\(option) \(why); ignored") }
    }
    let mapName = map.map { "--map \($0.rawValue)" } ?? "the default figure"
    if maps.keep != nil { warn("--keep", unless: map == .mask, because: "applies to --map mask only") }
    if maps.discardRatio != nil { warn("--discard-ratio", unless: map == .rollout, because: "applies to --map rollout only") }
    let selectsHeads: Set<MapKind?> = [nil, .query, .cls, .mask, .rollout]
    if maps.head != nil { warn("--head", unless: selectsHeads.contains(map) && map != .rollout, because: "does not apply to \(mapName), which shows every head or none") }
    if maps.fuse != nil { warn("--fuse", unless: selectsHeads.contains(map), because: "does not apply to \(mapName)") }
    let usesLayer: Set<MapKind?> = [nil, .query, .cls, .mask, .attngrad]
    if maps.layer != nil { warn("--layer", unless: usesLayer.contains(map), because: "does not apply to \(mapName), which shows every layer or none") }
    if maps.query != nil { warn("--query", unless: !ignoresQuery, because: "does not apply to \(mapName), which does not depend on a query") }
    let usesCNN: Set<MapKind?> = [nil, .rf, .distance]
    if maps.cnn != nil { warn("--cnn", unless: usesCNN.contains(map), because: "applies to the default figure, --map rf and --map distance only") }
    if maps.targetClass != nil { warn("--class", unless: map?.needsGradients == true || maps.faithfulness != nil || usesCNNWeights, because: "applies to --map gradrollout, gradcam, attngrad, --faithfulness and --cnn-weights only") }
    if model.cnnWeights != nil, !usesCNNWeights {
      warnings.append("--cnn-weights adds the CNN's Grad-CAM to PNG figures (--style full) and dumps of the default figure and --map gradcam, not to pages or --faithfulness; ignored")
    }
    if maps.targetEmbedding != nil { warn("--target-embedding", unless: map?.needsGradients == true || maps.faithfulness != nil, because: "applies to --map gradrollout, gradcam, attngrad and --faithfulness only") }
    for (option, given) in [("--head-count", model.headCount != nil), ("--mean", model.mean != nil), ("--std", model.std != nil)] where given && model.weights == nil {
      warnings.append("\(option) describes a checkpoint (--weights); the built-in model ignores it")
    }
    if output.style != .full, output.out == nil, output.outDir == nil || output.format != .png {
      warnings.append("--style applies to PNG figures only; ignored")
    }
    return warnings
  }
}
