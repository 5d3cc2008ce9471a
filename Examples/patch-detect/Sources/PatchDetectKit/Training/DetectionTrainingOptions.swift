import VATensorCore

/// How `DetectionTraining.train` trains. Defaults follow DETR's recipe (Carion et al. 2020,
/// §4: AdamW, weight decay 1e-4, a lower rate for the backbone, gradient clipping at 0.1),
/// with the backbone's rate half the transformer's rather than a tenth (it learns from
/// scratch here, not from ImageNet), a linear warm-up and a cosine decay planned from the
/// time budget, and Group DETR's query groups as the convergence aid.
public struct DetectionTrainingOptions: Sendable {
  /// The wall-clock budget the schedule is planned from (`--budget`, 20 minutes).
  public var budgetSeconds: Double = 1200
  /// A fixed number of epochs instead of the budget's plan (`--epochs`).
  public var epochs: Int?
  /// Seeds the initial weights, the shuffling and the flips (`--seed`).
  public var seed: UInt64 = 0
  /// Images per optimiser step.
  public var batchSize: Int = 8
  /// Peak learning rate of the transformer and heads. DETR's 1e-4 is for 300 epochs; in a
  /// 15-minute budget on generated scenes 5e-4 reached AP50 0.89 where 2e-4 reached 0.07.
  public var learningRate: Float = 5e-4
  /// Peak learning rate of the backbone (DETR's `lr_backbone`, lower than the transformer's).
  public var backboneLearningRate: Float = 2.5e-4
  /// AdamW's decoupled weight decay (not applied to biases and norms).
  public var weightDecay: Float = 1e-4
  /// Global gradient-norm clip (DETR's `clip_max_norm`).
  public var clipNorm: Float = 0.1
  /// Fraction of the planned steps spent warming up linearly from 0 (at least one step).
  public var warmupFraction: Double = 0.05
  /// Floor of the cosine decay, as a fraction of the peak rates.
  public var minimumLearningRateFraction: Float = 0.05
  /// The longer side every image is resized to, keeping its aspect (what the saved
  /// `preprocessor_config.json` says: `shortest_edge` = `longest_edge` = this); images of one
  /// resized size are batched together.
  public var imageSize: Int = 128
  /// Flip training images left-right with probability ½ (boxes mirrored).
  public var horizontalFlip: Bool = true
  /// The model's sizes; `classes` comes from the class names. Its `groups` is the number of
  /// Group DETR query groups (1: plain DETR).
  public var model: SmallDETRConfiguration?
  /// Log one history step every this many optimiser steps.
  public var logEvery: Int = 10

  /// The defaults.
  public init() {}
}

/// What `train` reports while it runs.
public struct DetectionTrainingProgress: Sendable {
  public enum Event: Sendable {
    /// The schedule was planned (after timing the first steps), described in words.
    case planned(String)
    /// A logged step.
    case step(DetectionLossHistory.Step)
    /// An epoch ended.
    case epoch(DetectionLossHistory.Epoch)
  }
  public var event: Event
}

/// Why training could not start.
public enum DetectionTrainingError: Error, CustomStringConvertible, Equatable {
  case noTrainingImages
  case label(path: String, label: Int, classes: Int)
  case option(name: String, reason: String)

  public var description: String {
    switch self {
    case .noTrainingImages: "there are no training images"
    case .label(let path, let label, let classes): "\(path): label \(label) is not one of the \(classes) classes"
    case .option(let name, let reason): "\(name): \(reason)"
    }
  }
}
