import ArgumentParser
import Foundation
import VisionAttention

/// `vit-attend`: draws what self-attention looks at, beside a CNN's receptive field.
public struct VitAttend: ParsableCommand {
  /// The command's name, usage lines, a short overview and its version; the long
  /// explanations are `vit-attend help <topic>` pages (`HelpTopic`).
  public static let configuration = CommandConfiguration(
    commandName: "vit-attend",
    abstract: "Draw a vision transformer's attention over an image, beside a CNN's receptive field.",
    usage: """
      vit-attend <image> [-o <png>] [--html <html>] [--dump <safetensors>] [<options>]
      vit-attend <inputs> ... [--out-dir <dir>] [--dump-dir <dir>] [<options>]
      vit-attend <inputs> ... --faithfulness <json> [--maps <maps>] [<options>]
      vit-attend --merge <dir>
      vit-attend help [<topic>]
      """,
    // A few lines, so USAGE and the options come first; the explanations are topic pages.
    discussion: """
      With no --map, the figure shows the input with the query point, where the patch under \
      it looks, SAGAN attention over CNN feature maps at the same point, and a CNN's \
      receptive field there. Without --weights a built-in, untrained model runs.

      More in vit-attend help <topic>: \(HelpTopic.allCases.map(\.rawValue).joined(separator: ", ")).
      """,
    version: VisionAttentionInfo.version)

  @Argument(help: "Input images (PNG or JPEG, recognised by content) or folders of them (walked recursively); a file named help is ./help.")
  var inputs: [String] = []

  // The sections of --help, in the order of the flow.
  @OptionGroup(title: "Input") var input: InputOptions
  @OptionGroup(title: "Model") var model: ModelOptions
  @OptionGroup(title: "Map") var maps: MapOptions
  @OptionGroup(title: "Appearance") var appearance: AppearanceOptions
  @OptionGroup(title: "Output") var output: OutputOptions
  @OptionGroup(title: "Folder runs") var folders: FolderRunOptions

  /// The command with every option at its default, as ArgumentParser needs.
  public init() {}

  /// Refuses, before anything is read or run, options out of range (`--alpha` outside [0, 1],
  /// `--head` below 0, an unknown `--cnn`) and combinations that do not go together (`--merge`
  /// with anything else, `--out` with `--out-dir`, `--shard` without an output folder, no
  /// output at all).
  /// - Throws: `ValidationError` naming the option.
  public func validate() throws {
    let output = output, maps = maps, folders = folders
    if folders.merge != nil {
      guard inputs.isEmpty, output.out == nil, output.outDir == nil, output.html == nil, output.dump == nil, output.dumpDir == nil, folders.shard == nil else {
        throw ValidationError("--merge DIR joins what shards wrote into DIR; give it alone.")
      }
      return
    }
    guard !inputs.isEmpty else { throw ValidationError("Give input images or folders.") }
    if maps.faithfulness != nil {
      guard output.out == nil, output.outDir == nil, output.html == nil, output.dump == nil, output.dumpDir == nil, folders.shard == nil else {
        throw ValidationError("--faithfulness writes a report instead of figures; leave out --out, --out-dir, --html, --dump, --dump-dir and --shard.")
      }
      _ = try maps.scoredMaps()
    } else if maps.faithfulnessMaps != nil {
      throw ValidationError("--maps chooses the maps --faithfulness REPORT.json scores; give --faithfulness too.")
    }
    guard maps.faithfulness != nil || output.out != nil || output.outDir != nil || output.dump != nil || output.html != nil || output.dumpDir != nil else {
      throw ValidationError("Give --out FILE.png or --html PAGE.html (one image), --out-dir DIR (several), --dump FILE.safetensors or --dump-dir DIR.")
    }
    if output.dump != nil, output.dumpDir != nil { throw ValidationError("--dump (one image) and --dump-dir (one dump per image) exclude each other.") }
    if folders.shard != nil, output.outDir == nil, output.dumpDir == nil {
      throw ValidationError("--shard splits a folder run: give --out-dir DIR or --dump-dir DIR.")
    }
    if let batch = model.batchSize, !(1...256).contains(batch) { throw ValidationError("--batch-size must be between 1 and 256, got \(batch).") }
    if output.out != nil, output.outDir != nil { throw ValidationError("--out and --out-dir exclude each other.") }
    if output.html != nil, output.outDir != nil { throw ValidationError("--html names one page; for one page per image use --out-dir DIR --format html.") }
    if output.format != .png, output.outDir == nil { throw ValidationError("--format chooses what --out-dir holds; for one image use --html PAGE.html.") }
    if output.dump != nil, output.outDir != nil { throw ValidationError("--dump writes one file, so it takes one image; leave out --out-dir.") }
    if output.perHead, output.out == nil, output.outDir == nil || output.format != .png {
      throw ValidationError("--per-head writes PNG figures beside --out FILE.png or into --out-dir DIR.")
    }
    if output.perHead, let map = maps.map, !map.spec.perHead {
      throw ValidationError("--per-head draws one figure per head of \(Self.mapList(where: \.perHead, joinedBy: "or")), not --map \(map.rawValue).")
    }
    guard (0...1).contains(appearance.alpha) else { throw ValidationError("--alpha must be between 0 and 1, got \(appearance.alpha).") }
    if let score = maps.score, !(0...1).contains(score) { throw ValidationError("--score is a class probability, between 0 and 1, got \(score).") }
    if let keep = maps.keep, !(keep > 0 && keep <= 1) { throw ValidationError("--keep must be above 0 and at most 1, got \(keep).") }
    if let ratio = maps.discardRatio, !(0..<1).contains(ratio) {
      throw ValidationError("--discard-ratio must be at least 0 and below 1, got \(ratio).")
    }
    if maps.head != nil, maps.fuse != nil { throw ValidationError("--head and --fuse exclude each other: one head, or a fusion of all.") }
    if let head = maps.head, head < 0 { throw ValidationError("--head counts from 0, got \(head).") }
    if let layer = maps.layer, layer < 0 { throw ValidationError("--layer counts from 0, got \(layer).") }
    if let factor = maps.normFactor, !(factor > 0 && factor.isFinite) { throw ValidationError("--norm-factor must be above 0, got \(factor).") }
    if let k = maps.targetClass, k < 0 { throw ValidationError("--class counts from 0, got \(k).") }
    if maps.targetClass != nil, maps.targetEmbedding != nil { throw ValidationError("--class and --target-embedding exclude each other: explain a class, or a similarity.") }
    if let headCount = model.headCount, headCount < 1 { throw ValidationError("--head-count must be at least 1, got \(headCount).") }
    if let std = model.std, std.values.contains(where: { $0 <= 0 }) { throw ValidationError("--std values must be positive.") }
    if let threads = model.threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024, got \(threads).") }
    if output.dumpAttention != nil, output.dump == nil, output.dumpDir == nil {
      throw ValidationError("--dump-attention chooses what --dump writes; give --dump FILE.safetensors or --dump-dir DIR too.")
    }
    guard model.fullAttentionLimit >= 0 else { throw ValidationError("--full-attention-limit must be at least 0, got \(model.fullAttentionLimit).") }
    do {
      _ = try ConvStack(parsing: maps.cnn ?? "vgg16")
    } catch {
      throw ValidationError("--cnn: \(error)")
    }
  }

  /// Runs what the options ask for: a shard merge (`--merge`), a faithfulness report
  /// (`--faithfulness`), or figures, pages and dumps for every input, with an index (and a
  /// data-set summary, for maps that have one) in a folder run's output folder.
  /// - Throws: `VisionAttentionError`, `ImageIOError` or the checkpoint loader's errors, which
  ///   ArgumentParser prints before exiting non-zero.
  public func run() throws {
    if let folder = folders.merge { return try mergeShards(in: folder) }
    for warning in ignoredOptionWarnings() {
      FileHandle.standardError.write(Data("vit-attend: warning: \(warning)\n".utf8))
    }
    if let threads = model.threads { ComputeThreads.count = threads }
    if let report = maps.faithfulness { return try scoreFaithfulness(report) }
    var request = OutputPlan.Request(inputs: inputs)
    (request.out, request.outDirectory, request.html, request.format) = (output.out, output.outDir, output.html, output.format)
    (request.dump, request.dumpDirectory, request.shard) = (output.dump, output.dumpDir, folders.shard)
    let plan = try OutputPlan.make(request)
    // Output folders are checked before the model runs, so a typo fails in a moment.
    for path in [output.out, output.html, output.dump].compactMap({ $0 }) {
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw VisionAttentionError.writeFailed(path: path, reason: "folder \(folder) does not exist")
      }
    }
    for folder in [output.outDir, output.dumpDir].compactMap({ $0 }) {
      do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw VisionAttentionError.writeFailed(path: folder, reason: "cannot create the folder (\((error as NSError).localizedDescription))")
      }
    }
    let folder = output.outDir ?? output.dumpDir
    let tag = folders.shard.map { ".\($0.fileTag)" } ?? ""
    var settings = try figureSettings()
    // Each family draws through its own pipeline; a ViT's also batches and keeps a summary.
    let processor: any ImageProcessing
    var vit: (any InspectableModel)?
    switch try loadFamily() {
    case .vit(let loaded):
      try refuseDETROptions(family: "ViT")
      vit = loaded.model
      if settings.map == .pca, settings.pcaFit == nil, let folder {
        try fitSharedPCA(&settings, jobs: plan.jobs.map(\.input), model: loaded.model, folder: folder)
      }
      processor = Pipeline(model: loaded.model, input: inputSettings, settings: settings)
    case .swin(let swin):
      try refuseDETROptions(family: "Swin")
      processor = try swinPipeline(swin, settings: settings)
    case .detr(let detr): processor = try detrPipeline(detr, settings: settings)
    }
    var batch = BatchRun(pipeline: processor, jobs: plan.jobs)
    (batch.keepGoing, batch.skipExisting, batch.perHead) = (folders.keepGoing, folders.skipExisting, output.perHead)
    batch.batchSize = model.batchSize ?? vit?.suggestedBatchSize ?? 1
    // A folder run keeps an index (and a data-set summary for the maps that have one) in its
    // output folder; a shard names its files after itself so shards can share the folder.
    if let folder {
      batch.indexFolder = folder
      batch.indexPath = (folder as NSString).appendingPathComponent("index\(tag).jsonl")
      if folders.skipExisting, let path = batch.indexPath {
        batch.previous = Dictionary(try IndexRecord.records(inFile: path).map { ($0.input, $0) }, uniquingKeysWith: { _, last in last })
      }
      if output.outDir != nil, let vit, let map = settings.map, map.spec.datasetSummary {
        batch.summary = DatasetSummary(map: map.rawValue, model: vit.name)
      }
    }

    var progress = ProgressBar(total: plan.jobs.count)
    let report = try batch.run { done, total, record in
      // Without --keep-going the error stops the run and is reported once, as it ends.
      if record.status == .error, folders.keepGoing, let message = record.error {
        progress.finish()
        FileHandle.standardError.write(Data("vit-attend: \(message)\n".utf8))
      }
      progress.update(done: done, current: record.input)
    }
    progress.finish()
    if let folder, let summary = report.summary, summary.images > 0 {
      // A shard's summary is a part to merge; its figure waits for the merge.
      if folders.shard == nil {
        try ShardMerge.write(summary, folder: folder, name: "summary", colormap: appearance.colormap)
      } else {
        try ShardMerge.write(summary, folder: folder, name: "summary\(tag)", colormap: appearance.colormap, figure: false)
      }
    }
    if plan.jobs.count > 1 || report.failed > 0 {
      let index = batch.indexPath.map { " (index: \($0))" } ?? ""
      FileHandle.standardError.write(Data("vit-attend: \(plan.jobs.count) \(plan.jobs.count == 1 ? "image" : "images"): \(report.succeeded) done, \(report.failed) failed, \(report.skipped) skipped\(index)\n".utf8))
    }
    if report.failed > 0 { throw ExitCode(2) }
  }

  /// A folder run of `--map pca` without `--pca-from`: one PCA over every image's patches,
  /// saved as `pca.safetensors` in the run folder (a shard saves its statistics for `--merge`
  /// and draws with its own images' fit), and drawn with.
  func fitSharedPCA(_ settings: inout FigureSettings, jobs: [String], model loaded: any InspectableModel, folder: String) throws {
    let pipeline = Pipeline(model: loaded, input: inputSettings, settings: settings)
    guard let (statistics, images) = try SharedPCA.statistics(pipeline: pipeline, inputs: jobs) else { return }
    let fit = try statistics.fit()
    if let shard = folders.shard {
      try SharedPCA.write(statistics, to: (folder as NSString).appendingPathComponent(SharedPCA.statisticsName(tag: shard.fileTag)))
      settings.pcaSource = "shard \(shard.fileTag)'s \(statistics.count) patches"
    } else {
      try fit.write(to: (folder as NSString).appendingPathComponent(SharedPCA.fileName), tokens: statistics.count)
      settings.pcaSource = "\(SharedPCA.fileName), \(statistics.count) patches of \(images) \(images == 1 ? "image" : "images")"
    }
    settings.pcaFit = fit
  }

  /// `--merge DIR`: joins the shards' indexes and summaries.
  func mergeShards(in folder: String) throws {
    let report = try ShardMerge.merge(folder: folder, colormap: appearance.colormap)
    var line = "vit-attend: merged \(report.shardsFound.count) of \(report.shardCount ?? 0) shards: \(report.records) records into \((folder as NSString).appendingPathComponent("index.jsonl"))"
    if let images = report.summaryImages { line += ", a summary of \(images) \(images == 1 ? "image" : "images")" }
    if let patches = report.pcaPatches {
      line += ", a PCA of \(patches) patches into \((folder as NSString).appendingPathComponent(SharedPCA.fileName)) (draw the shards again with --pca-from it for shared colours)"
    }
    FileHandle.standardError.write(Data((line + "\n").utf8))
    if !report.missingShards.isEmpty {
      FileHandle.standardError.write(Data("vit-attend: warning: no files from shards \(report.missingShards.map(String.init).joined(separator: ", ")): their images are missing\n".utf8))
    }
  }

  var inputSettings: InputSettings {
    InputSettings(
      resize: input.resize,
      decode: DecodeOptions(applyExifOrientation: !input.noExif, acceptPartial: input.acceptPartial))
  }

  /// The options as the library's settings, defaults filled in.
  func figureSettings() throws -> FigureSettings {
    var settings = FigureSettings()
    settings.map = maps.map
    settings.layer = maps.layer
    settings.head = maps.head
    settings.fuse = maps.fuse
    // A query the map never reads is ignored (and warned about), not checked against the image.
    settings.query = ignoresQuery ? nil : maps.query
    if let keep = maps.keep { settings.keep = keep }
    if let ratio = maps.discardRatio { settings.discardRatio = ratio }
    if let cnn = maps.cnn { settings.cnn = try ConvStack(parsing: cnn) }
    settings.colormap = appearance.colormap
    settings.alpha = Float(appearance.alpha)
    settings.upsample = appearance.upsample
    settings.style = output.style
    settings.dumpAttention = output.dumpAttention
    settings.fullAttentionLimit = model.fullAttentionLimit
    if let k = maps.targetClass { settings.target = .classIndex(k) }
    if let foreground = maps.foreground { settings.foreground = foreground }
    if let factor = maps.normFactor { settings.normFactor = factor }
    if let path = maps.pcaFrom, maps.map == .pca {
      settings.pcaFit = try PatchPCA(contentsOfFile: path)
      settings.pcaSource = path
    }
    if let path = maps.targetEmbedding { settings.target = try AttributionTarget.embedding(contentsOfFile: path) }
    if usesCNNWeights, let folder = model.cnnWeights {
      do {
        settings.cnnWeights = try ConvNet.load(fromCheckpointFolder: folder)
      } catch {
        throw CNNWeightsError(underlying: error)
      }
      // A class the CNN lacks fails here, before any image runs.
      if case .classIndex(let k) = settings.target, let cnn = settings.cnnWeights, k >= cnn.classCount {
        throw VisionAttentionError.cnnClassOutOfRange(class: k, classes: cnn.classCount, folder: folder)
      }
    }
    return settings
  }
}

/// `--cnn-weights DIR` that is not a CNN checkpoint `patch-classify` wrote: the loader's
/// message, naming the option.
struct CNNWeightsError: Error, CustomStringConvertible {
  var underlying: CheckpointError
  var description: String { "--cnn-weights: \(underlying)" }
}
