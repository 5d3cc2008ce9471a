import VisionAttention

extension VitAttend {
  /// Whether `--query` has no use in this run: the map does not depend on a query, and no
  /// page (whose first view starts at the query) is written.
  var ignoresQuery: Bool {
    let page = output.html != nil || (output.outDir != nil && output.format == .html)
    return !page && !MapRegistry.spec(maps.map).reads.contains(.query)
  }

  /// Whether `--cnn-weights` has a use in this run: a full-style PNG figure or a dump of the
  /// default figure or `--map gradcam` (the page and `--faithfulness` do not show it).
  var usesCNNWeights: Bool {
    let figures = output.out != nil || (output.outDir != nil && output.format == .png) || output.dump != nil || output.dumpDir != nil
    return model.cnnWeights != nil && maps.faithfulness == nil && figures && output.style == .full && MapRegistry.spec(maps.map).reads.contains(.cnnWeights)
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
    let spec = MapRegistry.spec(map)
    let mapName = map.map { "--map \($0.rawValue)" } ?? "the default figure"
    if maps.keep != nil { warn("--keep", unless: spec.reads.contains(.keep), because: "applies to \(Self.mapList(reading: .keep)) only") }
    if maps.discardRatio != nil { warn("--discard-ratio", unless: spec.reads.contains(.discardRatio), because: "applies to \(Self.mapList(reading: .discardRatio)) only") }
    if maps.head != nil { warn("--head", unless: spec.reads.contains(.head), because: "does not apply to \(mapName), which shows every head or none") }
    if maps.fuse != nil { warn("--fuse", unless: spec.reads.contains(.fuse), because: "does not apply to \(mapName)") }
    if maps.layer != nil { warn("--layer", unless: spec.reads.contains(.layer), because: "does not apply to \(mapName), which shows every layer or none") }
    if maps.query != nil { warn("--query", unless: !ignoresQuery, because: "does not apply to \(mapName), which does not depend on a query") }
    if maps.foreground != nil { warn("--foreground", unless: spec.reads.contains(.pca), because: "applies to --map pca only") }
    if maps.pcaFrom != nil { warn("--pca-from", unless: spec.reads.contains(.pca), because: "applies to --map pca only") }
    if maps.normFactor != nil { warn("--norm-factor", unless: spec.reads.contains(.normFactor), because: "applies to --map norms only") }
    if maps.cnn != nil { warn("--cnn", unless: spec.reads.contains(.cnn), because: "applies to \(Self.mapList(reading: .cnn)) only") }
    // "--map gradrollout, gradcam, attngrad"
    let targeted = "--map " + MapRegistry.all.filter { $0.isFigure && $0.reads.contains(.target) }.map(\.name).joined(separator: ", ")
    if maps.targetClass != nil { warn("--class", unless: spec.reads.contains(.target) || maps.faithfulness != nil || usesCNNWeights, because: "applies to \(targeted), --faithfulness and --cnn-weights only") }
    if model.cnnWeights != nil, !usesCNNWeights {
      warnings.append("--cnn-weights adds the CNN's Grad-CAM to PNG figures (--style full) and dumps of \(Self.mapList(reading: .cnnWeights)), not to pages or --faithfulness; ignored")
    }
    if maps.targetEmbedding != nil { warn("--target-embedding", unless: spec.reads.contains(.target) || maps.faithfulness != nil, because: "applies to \(targeted) and --faithfulness only") }
    for (option, given) in [("--head-count", model.headCount != nil), ("--mean", model.mean != nil), ("--std", model.std != nil)] where given && model.weights == nil {
      warnings.append("\(option) describes a checkpoint (--weights); the built-in model ignores it")
    }
    if let threads = model.threads, threads > ComputeThreads.usableProcessors {
      let usable = ComputeThreads.usableProcessors
      warnings.append("--threads \(threads) is more than the \(usable) processors this process may run on; \(usable) threads run")
    }
    if output.style != .full, output.out == nil, output.outDir == nil || output.format != .png {
      warnings.append("--style applies to PNG figures only; ignored")
    }
    return warnings
  }

  /// The maps that read `option`, as a warning names them: "the default figure, --map rf and
  /// --map distance", in the registry's order.
  static func mapList(reading option: MapReads) -> String {
    mapList { $0.reads.contains(option) }
  }

  /// The figures `include` picks, named as messages name them, the last one after `last`.
  static func mapList(where include: (MapSpec) -> Bool, joinedBy last: String = "and") -> String {
    let names = MapRegistry.all.filter { $0.isFigure && include($0) }.map { $0.kind.map { "--map \($0.rawValue)" } ?? "the default figure" }
    guard let final = names.last else { return "no map" }
    return names.count == 1 ? final : names.dropLast().joined(separator: ", ") + " \(last) " + final
  }
}
