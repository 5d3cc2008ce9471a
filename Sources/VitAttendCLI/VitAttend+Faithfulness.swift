import ArgumentParser
import Foundation
import VisionAttention

extension VitAttend {
  /// `--faithfulness REPORT.json`: scores the maps over every input image, writes the report
  /// and the curves (REPORT.png), and prints the table.
  func scoreFaithfulness(_ path: String) throws {
    try refuseFaithfulnessForSwin()
    let plan = try OutputPlan.make(OutputPlan.Request(inputs: inputs))
    // Every batch of perturbed inputs allocates the same large activations: keep freed
    // memory for the next batch instead of page-faulting it in again (about 10% of the run).
    AllocatorTuning.keepFreedMemoryForReuse()
    for warning in faithfulnessIgnoredOptions() {
      FileHandle.standardError.write(Data("vit-attend: warning: \(warning)\n".utf8))
    }
    // The same loader as the figures', so --head-count, --mean and --std and its warnings apply.
    guard let loaded = try loadModel().attributable else { throw VisionAttentionError.targetNeedsCheckpoint(map: "--faithfulness") }
    let settings = try figureSettings()
    let scored = try maps.scoredMaps()
    let run = FaithfulnessRun(model: loaded, input: inputSettings, maps: scored, target: settings.target, batchSize: model.batchSize ?? 16)
    var progress = ProgressBar(total: plan.jobs.count)
    let report = try run.run(plan.jobs.map(\.input)) { done, _ in progress.update(done: done, current: plan.jobs[done - 1].input) }
    progress.finish()
    let figurePath = ((path as NSString).pathExtension.lowercased() == "json" ? (path as NSString).deletingPathExtension : path) + ".png"
    let json = try report.json()
    let figure = report.figure(order: scored.map(\.rawValue))
    try AtomicFile.write(json, to: path)
    try figure.writePNG(to: figurePath, text: [("Software", "vit-attend"), ("model", report.model), ("report", path)])
    for (name, why) in report.skipped.sorted(by: { $0.key < $1.key }) {
      FileHandle.standardError.write(Data("vit-attend: warning: --maps \(name) skipped: \(why)\n".utf8))
    }
    var table = "map          deletion_auc  insertion_auc   (\(report.images.count) \(report.images.count == 1 ? "image" : "images"))\n"
    for kind in scored {
      guard let scores = report.maps[kind.rawValue] else { continue }
      table +=
        kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
        + String(format: "%12.4f  %13.4f\n", scores.deletionAUC, scores.insertionAUC)
    }
    FileHandle.standardOutput.write(Data(table.utf8))
  }

  /// Options of the figures that `--faithfulness` never reads, each as one sentence, less
  /// those `ignoredOptionWarnings` already names: the report scores the maps `--maps` names,
  /// each at its own fixed settings (last layer, mean of heads, the model's readout).
  func faithfulnessIgnoredOptions() -> [String] {
    let given: [(option: String, given: Bool)] = [
      ("--map", maps.map != nil), ("--layer", maps.layer != nil), ("--head", maps.head != nil), ("--fuse", maps.fuse != nil),
      ("--query", maps.query != nil), ("--keep", maps.keep != nil), ("--discard-ratio", maps.discardRatio != nil),
      ("--cnn", maps.cnn != nil), ("--per-head", output.perHead), ("--keep-going", folders.keepGoing),
      ("--skip-existing", folders.skipExisting),
    ]
    let said = ignoredOptionWarnings()
    return given.filter { entry in entry.given && !said.contains { $0.hasPrefix(entry.option + " ") } }.map {
      "\($0.option) does not apply to --faithfulness, which scores the maps --maps names at fixed settings; ignored"
    }
  }
}
