import Foundation
import VAImageIO

/// Many images through one `Pipeline` (or another family's `ImageProcessing`), as `vit-attend DIR --out-dir OUT` runs them: images
/// decoded ahead on another thread while the model runs, the model run on batches of
/// same-sized images, figures drawn and written on another thread behind it; one index
/// record per image in input order; failures recorded and skipped or stopping the run;
/// images whose outputs exist skipped; the data-set summary added up.
public struct BatchRun: Sendable {
  /// What each image goes through: model, input sizing and figure settings.
  public let processor: any ImageProcessing
  /// The vision transformer's pipeline, whose stages (decode, batched model, draw) overlap;
  /// nil for a family whose images run whole, one at a time (`ImageProcessing.process`).
  var pipeline: Pipeline? { processor as? Pipeline }
  /// The images and their output paths, in run order (`OutputPlan.make`).
  public var jobs: [OutputPlan.Job]
  /// Record a failing image and go on (else the first failure stops the run).
  public var keepGoing = false
  /// Skip images whose outputs all exist (a killed run resumes).
  public var skipExisting = false
  /// Also one figure per head.
  public var perHead = false
  /// Images per model pass.
  public var batchSize = 1
  /// Output paths in index records are relative to this folder.
  public var indexFolder: String?
  /// Where the index goes (JSON lines), if anywhere.
  public var indexPath: String?
  /// Records of an earlier run, by input, kept for images this run skips.
  public var previous: [String: IndexRecord] = [:]
  /// Start of the data-set summary, when the map has one.
  public var summary: DatasetSummary?

  /// A run of `jobs` through `pipeline` (a ViT `Pipeline` or another family's), one image per pass, stopping at the first failure, until
  /// the fields below say otherwise.
  public init(pipeline: any ImageProcessing, jobs: [OutputPlan.Job]) {
    self.processor = pipeline
    self.jobs = jobs
  }

  /// What the run did.
  public struct Report: Sendable {
    /// One record per job, in input order, including failed and skipped images.
    public var records: [IndexRecord] = []
    /// The data-set summary with every finished image added, when the map has one.
    public var summary: DatasetSummary?
    /// Images whose run failed (`status == .error`).
    public var failed: Int { records.filter { $0.status == .error }.count }
    /// Images skipped because their outputs existed (`--skip-existing`).
    public var skipped: Int { records.filter { $0.status == .skipped }.count }
    /// Images whose outputs were written.
    public var succeeded: Int { records.filter { $0.status == .ok }.count }
  }

  /// Runs every job. `progress(done, total, record)` is called on the calling thread after
  /// each image, in input order.
  /// - Throws: the first image's error when `keepGoing` is off (the index still records
  ///   every image before it and that one), or an error writing the index.
  public func run(progress: (Int, Int, IndexRecord) -> Void = { _, _, _ in }) throws -> Report {
    var report = Report(summary: summary)
    var index = try indexPath.map { try IndexWriter(path: $0) }
    var stop: (any Error)?
    func emit(_ outcomes: [Outcome]) {
      for outcome in outcomes where stop == nil {
        report.records.append(outcome.record)
        if let summary = outcome.summary { report.summary?.add(summary) }
        index?.append(outcome.record)
        progress(report.records.count, jobs.count, outcome.record)
        if let error = outcome.error, !keepGoing { stop = error }
      }
    }

    let chunks = stride(from: 0, to: jobs.count, by: max(batchSize, 1)).map { Array(jobs[$0..<min($0 + max(batchSize, 1), jobs.count)]) }
    var preparing = chunks.first.map { chunk in Background { self.prepare(chunk) } }
    var writing: Background<[Outcome]>?
    for c in chunks.indices {
      guard stop == nil, let current = preparing else { break }
      let prepared = current.value
      preparing = c + 1 < chunks.count ? Background { [chunks] in self.prepare(chunks[c + 1]) } : nil
      let ran = runModel(prepared)
      if let writing { emit(writing.value) }
      guard stop == nil else { break }
      writing = Background { self.write(ran) }
    }
    if let writing, stop == nil { emit(writing.value) }
    _ = preparing?.value  // let a prefetch still running finish before returning

    try index?.finish()
    if let stop { throw stop }
    return report
  }

  /// One image between the stages: its job, and what has become of it so far.
  struct Item: Sendable {
    var job: OutputPlan.Job
    var prepared: PreparedImage?
    /// What to keep of its attention, from its size.
    var plan: AttentionPlan?
    var result: ImageAttention?
    var error: (any Error)?
    var skipped = false
  }

  /// An image's end: its record, its numbers for the summary, its error.
  struct Outcome: Sendable {
    var record: IndexRecord
    var summary: ImageSummary?
    var error: (any Error)?
  }

  func outputs(of job: OutputPlan.Job) -> Pipeline.Outputs {
    Pipeline.Outputs(figure: job.output, page: job.page, dump: job.dump, perHead: perHead)
  }

  /// Decodes and sizes each image, skipping those whose outputs exist.
  func prepare(_ chunk: [OutputPlan.Job]) -> [Item] {
    chunk.map { job in
      let paths = [job.output, job.page, job.dump].compactMap { $0 }
      guard let pipeline else {
        return Item(job: job, skipped: skipExisting && !paths.isEmpty && paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
      }
      if skipExisting {
        if !paths.isEmpty, paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
          // A data-set summary must cover every image, and only the model can give a
          // skipped image's numbers: run it, but write nothing for it.
          let prepared = summary == nil ? nil : try? PreparedImage(contentsOfFile: job.input, for: pipeline.model, input: pipeline.input)
          let plan = try? prepared.map { try pipeline.attentionPlan($0.geometry, outputs: Pipeline.Outputs()) }
          return Item(job: job, prepared: prepared, plan: plan ?? nil, skipped: true)
        }
      }
      do {
        let prepared = try PreparedImage(contentsOfFile: job.input, for: pipeline.model, input: pipeline.input)
        let plan = try pipeline.attentionPlan(prepared.geometry, outputs: outputs(of: job))
        return Item(job: job, prepared: prepared, plan: plan)
      } catch {
        return Item(job: job, error: error)
      }
    }
  }

  /// Runs the model on every prepared image: a batch per image size for images whose
  /// attention is kept in full, one at a time (tiled, keeping rows) for those above the limit.
  func runModel(_ items: [Item]) -> [Item] {
    guard let pipeline else { return items }
    var items = items
    // Indices of the prepared images, grouped by size in order of first appearance; an image
    // kept as rows is a group of its own.
    var groups: [(width: Int, height: Int, full: Bool, members: [Int])] = []
    for (i, item) in items.enumerated() {
      guard let image = item.prepared?.image, let plan = item.plan else { continue }
      let full = plan.capture == .full
      if full, let g = groups.firstIndex(where: { $0.full && $0.width == image.width && $0.height == image.height }) {
        groups[g].members.append(i)
      } else {
        groups.append((image.width, image.height, full, [i]))
      }
    }
    for group in groups {
      let prepared = group.members.compactMap { items[$0].prepared }
      do {
        let runs =
          group.full
          ? try pipeline.model.run(batch: prepared.map(\.image), features: items[group.members[0]].plan!.features)
          : try prepared.map { item in
            let plan = items[group.members[0]].plan!
            return try pipeline.model.run(item.image, capture: plan.capture, features: plan.features)
          }
        for (i, (image, run)) in zip(group.members, zip(prepared, runs)) {
          items[i].result = ImageAttention(image, model: pipeline.model, run: run)
        }
      } catch {
        for i in group.members { items[i].error = error }
      }
    }
    return items
  }

  /// Draws and writes each image's outputs, in order; without `keepGoing` nothing after the
  /// first failure is written.
  func write(_ items: [Item]) -> [Outcome] {
    var outcomes: [Outcome] = []
    for item in items {
      if outcomes.last?.error != nil, !keepGoing { break }
      if item.skipped {
        var record = previous[item.job.relative] ?? IndexRecord(job: item.job, status: .skipped, relativeTo: indexFolder)
        let summary = try? pipeline.flatMap { pipeline in try item.result.map { try $0.scene(pipeline.settings).summary() } }
        if let summary { record = IndexRecord(job: item.job, summary: summary, map: processor.map, relativeTo: indexFolder) }
        record.status = .skipped
        record.position = item.job.position
        outcomes.append(Outcome(record: record, summary: summary))
        continue
      }
      do {
        if item.job.mirrored {
          for destination in [item.job.output, item.job.page, item.job.dump].compactMap({ $0 }) {
            try Pipeline.makeParentFolder(of: destination)
          }
        }
        let summary: ImageSummary?
        if let pipeline {
          guard let result = item.result, let plan = item.plan else { throw item.error ?? VisionAttentionError.notFound(path: item.job.input) }
          summary = try pipeline.write(
            result, input: item.job.input, outputs: outputs(of: item.job), plan: plan, summarize: indexPath != nil || self.summary != nil)
        } else {
          summary = try processor.process(item.job.input, outputs: outputs(of: item.job))
        }
        let record =
          summary.map { IndexRecord(job: item.job, summary: $0, map: processor.map, relativeTo: indexFolder) }
          ?? IndexRecord(job: item.job, status: .ok, relativeTo: indexFolder)
        outcomes.append(Outcome(record: record, summary: summary))
      } catch {
        let record = IndexRecord(job: item.job, status: .error, error: "\(error)", relativeTo: indexFolder)
        outcomes.append(Outcome(record: record, error: error))
      }
    }
    return outcomes
  }
}

/// Work started on its own thread, its value collected later (blocking until it is done).
final class Background<Value: Sendable>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var result: Value?
  private var collected = false

  init(_ work: @escaping @Sendable () -> Value) {
    let thread = Thread { [self] in
      result = work()
      done.signal()
    }
    // Decoding large images and drawing figures recurse little but allocate; the default
    // secondary-thread stack (512 KiB) is enough for neither libjpeg nor zlib at worst.
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// The work's value; waits for it the first time.
  var value: Value {
    if !collected {
      done.wait()
      collected = true
    }
    return result!
  }
}
