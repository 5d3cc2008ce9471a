import Foundation
import PatchDetectKit
import Testing
import VAImageIO
import VASafetensors
import VATensorCore

/// One whole training step of patch-detect's SmallDETR against PyTorch autograd: the committed
/// tiny model (`SmallDETRTests.fixtureModel`) in training mode on three 64×64 images (one square;
/// a disc and a square; nothing), every decoder layer's `SetCriterion` over both query groups,
/// backward, then `DetectionTraining`'s optimiser step (clip 0.1, AdamW at two rates).
///
/// Written by Scripts/reference/detect_step_fixtures.py (torch 2.15, transformers 5.25; the
/// recipe of Scripts/reference/detect_torch_recipe.py in float64). Regenerate:
/// python3 Scripts/reference/detect_step_fixtures.py
@Suite struct TrainingStepGradientTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/detect_step").path

  /// The step's outputs on the Swift side, with the reference's file and description.
  struct Step {
    var model: SmallDETR
    var result: SetCriterion.Result
    var logits: Tensor, boxes: Tensor
    var gradients: [String: [Float]]
    var reference: SafetensorsFile
    var description: [String: Any]
  }

  /// Builds the fixture model with the reference's redrawn tensors (`initial.*`: the second
  /// query group, which the export leaves out; the box head's last layer and every rank-1
  /// parameter, which a fresh model holds at 0 or 1), runs the forward, the criterion and
  /// backward.
  static func trainingStep() throws -> Step {
    let reference = try SafetensorsFile(path: folder + "/step.safetensors")
    let description = try #require(try DetectTrainFixture.load("detect_step/step.json") as? [String: Any])
    let model = SmallDETRTests.fixtureModel()
    let redrawn = model.namedParameters.filter { reference.info("initial." + $0.name) != nil }
    #expect(redrawn.count == reference.tensorNames.filter { $0.hasPrefix("initial.") }.count, "every redrawn tensor has a Swift name")
    for (name, tensor) in redrawn {
      let values = try reference.floats("initial." + name)
      if name == "model.query_position_embeddings.weight" {
        // The first group is the committed export's; only the second is new.
        #expect(Array(values.prefix(5 * 16)) == Array(tensor.scalars.prefix(5 * 16)))
      }
      tensor.scalars = values
    }
    model.setRequiresGrad(true)
    let preprocessing = SmallDETR.preprocessing(imageSize: 64)
    let paths = try #require(description["images"] as? [String])
    let images = try paths.map { try detrInput(Image(contentsOfFile: folder + "/" + $0), preprocessing: preprocessing).unsqueezed(0) }
    let targets = try #require(description["targets"] as? [[String: Any]]).map { t in
      let flat = DetectTrainFixture.floats(t["boxes"])
      return DETRTarget(labels: DetectTrainFixture.integers(t["labels"]), boxes: stride(from: 0, to: flat.count, by: 4).map { CenterBox(flat, at: $0) })
    }
    let (logits, boxes) = model.forward(concat(images, axis: 0), training: true)
    let result = SetCriterion(classes: model.configuration.classes, groups: model.configuration.groups)(logits: logits, boxes: boxes, targets: targets)
    model.zeroGradients()
    result.total.backward()
    let gradients = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.grad?.scalars ?? []) })
    return Step(model: model, result: result, logits: logits, boxes: boxes, gradients: gradients, reference: reference, description: description)
  }

  /// `max |a − e| / max |e|` over a tensor: its worst error relative to its largest magnitude.
  static func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    let scale = expected.reduce(0.0) { Swift.max($0, abs(Double($1))) }
    let worst = zip(actual, expected).reduce(0.0) { Swift.max($0, abs(Double($1.0) - Double($1.1))) }
    return worst / Swift.max(scale, 1e-30)
  }

  /// The predictions of every layer and group, the loss, each layer's terms and matches.
  @Test func lossMatchesPyTorch() throws {
    let step = try Self.trainingStep()
    #expect(Self.relativeError(step.logits.scalars, try step.reference.floats("logits")) < 1e-5)
    #expect(Self.relativeError(step.boxes.scalars, try step.reference.floats("boxes")) < 1e-5)
    let loss = try #require(step.description["loss"] as? Double)
    #expect(abs(Double(step.result.total.item) - loss) < 1e-5 * abs(loss))
    let layers = try #require(step.description["layers"] as? [[String: Any]])
    #expect(layers.count == step.result.layers.count)
    for (l, (mine, theirs)) in zip(step.result.layers, layers).enumerated() {
      #expect(abs(mine.classification - (theirs["classification"] as! Double)) < 1e-5, "layer \(l)")
      #expect(abs(mine.boxL1 - (theirs["box_l1"] as! Double)) < 1e-5, "layer \(l)")
      #expect(abs(mine.giou - (theirs["giou"] as! Double)) < 1e-5, "layer \(l)")
      let matches = (theirs["matches"] as! [[[Int]]]).map { $0.map { (query: $0[0], target: $0[1]) } }
      for (i, pairs) in mine.matches.enumerated() {
        #expect(pairs.map(\.query) == matches[i].map(\.query) && pairs.map(\.target) == matches[i].map(\.target), "layer \(l) image \(i)")
      }
    }
  }

  /// Every parameter's gradient, by export name, within 1e-5 of the tensor's largest magnitude
  /// (worst 9.0e-6, a stage-0 batch norm's β; torch's own float32 step is 8.3e-6 from the
  /// float64 reference). Gradients that are zero in exact arithmetic (a key projection's bias:
  /// softmax ignores a shift every key shares; decoder layer 0's self-attention q, k and v
  /// weights: its queries start at zero, so every value is v's bias) are float32 rounding
  /// noise, held to 2e-7 absolute instead: 3.2e-8 here, 7.9e-8 in torch's float32 step, while
  /// the other tensors' largest gradients are 0.01 to 7.
  @Test func gradientsMatchPyTorch() throws {
    let step = try Self.trainingStep()
    #expect(step.gradients.count == step.model.namedParameters.count)
    for (name, gradient) in step.gradients {
      let expected = try step.reference.floats("grad." + name)
      if expected.allSatisfy({ abs($0) < 1e-12 }) {
        let largest = gradient.reduce(0) { Swift.max($0, abs($1)) }
        #expect(gradient.count == expected.count && largest < 2e-7, "\(name): \(largest), zero in exact arithmetic")
      } else {
        let error = Self.relativeError(gradient, expected)
        #expect(error < 1e-5, "\(name): \(error)")
      }
    }
  }

  /// The batch norms' running statistics after the step (momentum 0.1, unbiased variance),
  /// within 1e-5 of each tensor's largest value (worst 1.1e-7).
  @Test func runningStatisticsMatchPyTorch() throws {
    let step = try Self.trainingStep()
    #expect(step.model.namedBuffers.count == 2 * 8)  // stem, 2 + 3 + 2 block norms
    for (name, buffer) in step.model.namedBuffers {
      let error = Self.relativeError(buffer.scalars, try step.reference.floats("running." + name))
      #expect(error < 1e-5, "\(name): \(error)")
    }
  }
}

extension TrainingStepGradientTests {
  /// The update `DetectionTraining.train` makes given the step's gradients (its clipping, its
  /// two `AdamW`s and its decay selection, restated here): global-norm clipping at 0.1, AdamW at
  /// 2.5e-4 on the backbone and 5e-4 on the rest, weight decay 1e-4 on tensors of rank ≥ 2,
  /// against `torch.optim.AdamW` with the recipe's parameter groups. Both sides start from the
  /// reference's gradients (`gradientsMatchPyTorch` checks Swift's own): a first Adam step
  /// divides each gradient by its own magnitude, so an element near Adam's ε = 1e-8 would turn a
  /// gradient error of 1e-5 of the tensor's largest into a visible change of the update.
  ///
  /// Each parameter within 2e-3 of its rate: a float32 parameter near 3 (the query positions)
  /// resolves steps of 2.4e-7, half a thousandth of the 5e-4 rate (the worst error, one such
  /// step). One step of decay at 1e-4 moves a parameter by 1e-4 · rate · θ, below that
  /// resolution: this checks the clipping, the rates and Adam's first step, not the decay's
  /// selection.
  @Test func optimizerStepMatchesPyTorch() throws {
    let step = try Self.trainingStep()
    let d = step.description
    let (rate, backboneRate) = (Float(d["learning_rate"] as! Double), Float(d["backbone_learning_rate"] as! Double))
    let (decay, clip) = (Float(d["weight_decay"] as! Double), Float(d["clip"] as! Double))
    for (name, tensor) in step.model.namedParameters {
      tensor.grad = Tensor(shape: tensor.shape, scalars: try step.reference.floats("grad." + name))
    }
    let parameters = step.model.parameters
    let backbone = Set(step.model.backboneParameters.map(ObjectIdentifier.init))
    let noDecay = parameters.filter { $0.rank == 1 }
    var (backboneOptimizer, optimizer) = (AdamW(weightDecay: decay), AdamW(weightDecay: decay))
    let norm = Double(clipGradientNorm(parameters, maxNorm: clip)), expectedNorm = d["gradient_norm"] as! Double
    #expect(abs(norm - expectedNorm) < 1e-5 * expectedNorm)
    backboneOptimizer.step(parameters.filter { backbone.contains(ObjectIdentifier($0)) }, learningRate: backboneRate, excludingWeightDecay: noDecay)
    optimizer.step(parameters.filter { !backbone.contains(ObjectIdentifier($0)) }, learningRate: rate, excludingWeightDecay: noDecay)
    for (name, tensor) in step.model.namedParameters {
      let expected = try step.reference.floats("after." + name)
      let limit = 2e-3 * Double(backbone.contains(ObjectIdentifier(tensor)) ? backboneRate : rate)
      let worst = zip(tensor.scalars, expected).reduce(0.0) { Swift.max($0, abs(Double($1.0) - Double($1.1))) }
      #expect(tensor.count == expected.count && worst < limit, "\(name): \(worst)")
    }
  }
}
