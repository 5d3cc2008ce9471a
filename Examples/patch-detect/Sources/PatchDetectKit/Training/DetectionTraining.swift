import Foundation
import VAImageIO
import VAModels
import VATensorCore

/// Trains `SmallDETR` with DETR's set criterion.
///
/// Each step: a batch of images (flipped at random) → every decoder layer's predictions for
/// every query group → `SetCriterion` (Hungarian matching per layer and group, CE with
/// "no object" at 0.1, L1 and GIoU, auxiliary losses) → backward → global-norm clipping →
/// AdamW, the backbone at its own rate, both rates on one warm-up + cosine schedule.
///
/// The convergence aid is Group DETR's one-to-many assignment (Chen et al. 2023, ICCV,
/// arXiv:2207.13085): `groups` sets of queries trained side by side, each matched one-to-one,
/// so each object supervises `groups` queries per step; inference keeps one group and DETR's
/// layout. Plain DETR (`groups = 1`) hardly leaves the "predict nothing" state in a CPU budget.
///
/// The schedule: with `epochs` given it is that; otherwise the first steps are timed and the
/// number of epochs is what fits the budget (at least one). Training stops early only if a
/// run overshoots the budget by more than a tenth (a loaded machine), and says so in the plan.
public enum DetectionTraining {
  public static func train(
    _ train: [DetectionSample], validation: [DetectionSample], classNames: [String], options: DetectionTrainingOptions,
    progress: (DetectionTrainingProgress) -> Void = { _ in }
  ) throws(DetectionTrainingError) -> DetectionTrainingResult {
    guard !train.isEmpty else { throw .noTrainingImages }
    guard !classNames.isEmpty else { throw .option(name: "classNames", reason: "needs at least one class") }
    guard options.batchSize >= 1 else { throw .option(name: "batch size", reason: "must be at least 1, got \(options.batchSize)") }
    guard options.imageSize >= 32 else { throw .option(name: "image size", reason: "must be at least 32, got \(options.imageSize)") }
    if let e = options.epochs, e < 1 { throw .option(name: "--epochs", reason: "must be at least 1, got \(e)") }
    for sample in train + validation {
      if let bad = sample.labels.first(where: { $0 < 0 || $0 >= classNames.count }) { throw .label(path: sample.path, label: bad, classes: classNames.count) }
    }
    var configuration = options.model ?? SmallDETRConfiguration(classes: classNames.count)
    configuration.classes = classNames.count
    if let problem = configuration.validate() { throw .option(name: "model", reason: problem) }

    var rng = SplitMix64(seed: options.seed)
    let model = SmallDETR(configuration, using: &rng)
    model.setRequiresGrad(true)
    let criterion = SetCriterion(classes: classNames.count, groups: configuration.groups)
    let preprocessing = SmallDETR.preprocessing(imageSize: options.imageSize)
    let backbone = Set(model.backboneParameters.map(ObjectIdentifier.init))
    let (backboneParameters, otherParameters) = (model.parameters.filter { backbone.contains(ObjectIdentifier($0)) }, model.parameters.filter { !backbone.contains(ObjectIdentifier($0)) })
    let noDecay = model.parameters.filter { $0.rank == 1 }
    var (backboneOptimizer, optimizer) = (AdamW(weightDecay: options.weightDecay), AdamW(weightDecay: options.weightDecay))

    var history = DetectionLossHistory()
    history.convergenceAid =
      configuration.groups > 1
      ? "Group DETR one-to-many assignment, \(configuration.groups) query groups of \(configuration.queries) (Chen et al. 2023, arXiv:2207.13085)"
      : "none (plain DETR)"
    let trainSizes = train.map { preprocessing.resizedSize(height: $0.image.height, width: $0.image.width) }
    let stepsPerEpoch = sizeBatches(Array(train.indices), sizes: trainSizes, batchSize: options.batchSize).count
    let start = Date()
    var schedule: LearningRateSchedule?
    var plannedEpochs = options.epochs ?? Int.max
    if let epochs = options.epochs { schedule = plan(steps: epochs * stepsPerEpoch, options: options) }
    // Without --epochs, the first steps are timed to plan the rest; the first two pay for
    // allocation and are left out of the timing when there are more.
    let probeSteps = min(stepsPerEpoch, 12)
    let untimed = probeSteps > 2 ? 2 : 0
    var probeStart = 0.0
    var step = 0
    var epoch = 0
    var stoppedEarly = false
    while epoch < plannedEpochs && !stoppedEarly {
      var order = Array(train.indices)
      order.shuffle(using: &rng)
      var batches = sizeBatches(order, sizes: trainSizes, batchSize: options.batchSize)
      // Images of one size make one bucket, batched in the shuffled order as before; several
      // sizes also shuffle which bucket's batch comes next.
      if Set(trainSizes.map { [$0.height, $0.width] }).count > 1 { batches.shuffle(using: &rng) }
      for indices in batches {
        let flips = indices.map { _ in options.horizontalFlip && rng.next() % 2 == 1 }
        let images = concat(zip(indices, flips).map { detrInput(train[$0].image, preprocessing: preprocessing, flipped: $1).unsqueezed(0) }, axis: 0)
        let targets = zip(indices, flips).map { DETRTarget(sample: train[$0], flipped: $1) }
        let (logits, boxes) = model.forward(images, training: true)
        let result = criterion(logits: logits, boxes: boxes, targets: targets)
        model.zeroGradients()
        result.total.backward()
        clipGradientNorm(model.parameters, maxNorm: options.clipNorm)
        // Until the budget's plan exists, the probe steps ramp up gently (1 % of the peak a step).
        let rate = schedule?(step) ?? options.learningRate * Float(step) / 100
        let ratio = rate / options.learningRate
        backboneOptimizer.step(backboneParameters, learningRate: options.backboneLearningRate * ratio, excludingWeightDecay: noDecay)
        optimizer.step(otherParameters, learningRate: rate, excludingWeightDecay: noDecay)
        step += 1
        let seconds = Date().timeIntervalSince(start)
        if step % options.logEvery == 0 || step == 1 {
          let last = result.layers.last!
          let boxCount = targets.reduce(0) { $0 + $1.labels.count }
          let matchedFirstGroup = last.matches.reduce(0) { $0 + $1.filter { $0.query < configuration.queries }.count }
          let logged = DetectionLossHistory.Step(
            step: step, epoch: epoch + 1, seconds: seconds, loss: Double(result.total.item), classification: last.classification,
            boxL1: last.boxL1, giou: last.giou, learningRate: Double(rate), boxes: boxCount, unmatched: boxCount - matchedFirstGroup)
          history.steps.append(logged)
          progress(DetectionTrainingProgress(event: .step(logged)))
        }
        if step == untimed { probeStart = seconds }
        if schedule == nil && step == probeSteps {
          let perStep = (seconds - probeStart) / Double(step - untimed)
          // Validation costs about a third of a training step per image (forward only, one group).
          let perEpoch = perStep * Double(stepsPerEpoch) + perStep / 3 * Double(validation.count) / Double(options.batchSize)
          let left = options.budgetSeconds - seconds
          plannedEpochs = max(1, Int((left + perStep * Double(step)) / perEpoch))
          schedule = plan(steps: plannedEpochs * stepsPerEpoch, options: options, from: step)
          history.plan = "\(plannedEpochs) epochs of \(stepsPerEpoch) steps, set by the \(Int(options.budgetSeconds / 60))-minute budget (\(String(format: "%.2f", perStep)) s a step)"
          progress(DetectionTrainingProgress(event: .planned(history.plan)))
        }
        if options.epochs == nil && seconds > 1.1 * options.budgetSeconds {
          stoppedEarly = true
          history.plan += "; stopped at step \(step) of \(plannedEpochs * stepsPerEpoch), over the budget"
          break
        }
      }
      if options.epochs != nil && history.plan.isEmpty { history.plan = "\(plannedEpochs) epochs of \(stepsPerEpoch) steps (--epochs)" }
      epoch += 1
      let validationLoss = validation.isEmpty ? nil : validate(model, validation, criterion: criterion, preprocessing: preprocessing, batchSize: options.batchSize)
      let ended = DetectionLossHistory.Epoch(epoch: epoch, seconds: Date().timeIntervalSince(start), validationLoss: validationLoss)
      history.epochs.append(ended)
      progress(DetectionTrainingProgress(event: .epoch(ended)))
    }
    return DetectionTrainingResult(model: model, classNames: classNames, imageSize: options.imageSize, history: history)
  }

  /// Warm-up then cosine decay over `steps` in all. A plan made after `from` probe steps warms
  /// up for at least those steps, on its own line (`peak · step / warmup`): at the handover
  /// the rate drops from the probe's 1 %-a-step ramp (0.11 of the peak at the 12th step) to that
  /// line (0.032 of the peak in the 7,436-step run of detect-train-coco.md), and climbs from there.
  static func plan(steps: Int, options: DetectionTrainingOptions, from done: Int = 0) -> LearningRateSchedule {
    let warmup = max(1, Int(Double(steps) * options.warmupFraction))
    return LearningRateSchedule(
      peak: options.learningRate, warmupSteps: min(max(warmup, done), steps), totalSteps: max(steps, 1),
      minimum: options.learningRate * options.minimumLearningRateFraction, decay: .cosine)
  }

  /// The last layer's weighted loss of the first query group in inference mode, averaged over
  /// the validation batches.
  static func validate(
    _ model: SmallDETR, _ samples: [DetectionSample], criterion: SetCriterion, preprocessing: DETRPreprocessing, batchSize: Int
  ) -> Double {
    var single = criterion
    single.groups = 1
    var total = 0.0, batches = 0
    withGradientsDisabled {
      let sizes = samples.map { preprocessing.resizedSize(height: $0.image.height, width: $0.image.width) }
      for indices in sizeBatches(Array(samples.indices), sizes: sizes, batchSize: batchSize) {
        let batch = indices.map { samples[$0] }
        let images = concat(batch.map { detrInput($0.image, preprocessing: preprocessing).unsqueezed(0) }, axis: 0)
        let (logits, boxes) = model.forward(images, training: false, groups: 1)
        let l = logits.shape[0]
        let result = single(logits: logits.sliced(axis: 0, range: (l - 1)..<l), boxes: boxes.sliced(axis: 0, range: (l - 1)..<l), targets: batch.map(DETRTarget.init(sample:)))
        total += Double(result.total.item)
        batches += 1
      }
    }
    return total / Double(max(batches, 1))
  }
}

/// `order` cut into batches of at most `batchSize` whose images share one input size (`sizes`,
/// by index): each batch is one tensor, and every image is resized as inference resizes it,
/// with no padding (a single image at inference has none). Buckets come in the order their
/// first image appears; one size gives `order`'s consecutive batches.
func sizeBatches(_ order: [Int], sizes: [(height: Int, width: Int)], batchSize: Int) -> [[Int]] {
  var buckets: [[Int]] = [], bucketOf: [[Int]: Int] = [:]
  for i in order {
    let key = [sizes[i].height, sizes[i].width]
    if let b = bucketOf[key] {
      buckets[b].append(i)
    } else {
      bucketOf[key] = buckets.count
      buckets.append([i])
    }
  }
  return buckets.flatMap { bucket in stride(from: 0, to: bucket.count, by: batchSize).map { Array(bucket[$0..<min(bucket.count, $0 + batchSize)]) } }
}

extension DETRTarget {
  /// A sample's target, mirrored left-right when `flipped` (cx → 1 − cx).
  init(sample: DetectionSample, flipped: Bool) {
    self.init(sample: sample)
    if flipped { boxes = boxes.map { CenterBox(cx: 1 - $0.cx, cy: $0.cy, w: $0.w, h: $0.h) } }
  }
}

/// `detrInput` of the image mirrored left-right when `flipped`.
func detrInput(_ image: Image, preprocessing: DETRPreprocessing, flipped: Bool) -> Tensor {
  guard flipped else { return detrInput(image, preprocessing: preprocessing) }
  let (w, h, c) = (image.width, image.height, image.channels)
  var pixels = image.pixels
  for y in 0..<h {
    for x in 0..<w {
      for k in 0..<c { pixels[(y * w + x) * c + k] = image.pixels[(y * w + (w - 1 - x)) * c + k] }
    }
  }
  return detrInput(Image(width: w, height: h, channels: c, pixels: pixels), preprocessing: preprocessing)
}
